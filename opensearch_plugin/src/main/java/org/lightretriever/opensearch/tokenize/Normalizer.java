package org.lightretriever.opensearch.tokenize;

import java.text.Normalizer.Form;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** tokenizer.json `normalizer`: BertNormalizer, Lowercase, NFC/NFD/NFKC/NFKD, StripAccents, Strip, Replace, Prepend, Sequence. */
@FunctionalInterface
interface Normalizer {
    String normalize(String text);

    Normalizer IDENTITY = text -> text;

    static Normalizer fromJson(Object spec) {
        if (spec == null) {
            return IDENTITY;
        }
        Map<String, Object> map = Json.map(spec, "normalizer");
        String type = Json.string(map, "type", "normalizer");
        return switch (type) {
            case "BertNormalizer" -> bert(map);
            case "Lowercase" -> Normalizer::lowercase;
            case "NFC" -> text -> java.text.Normalizer.normalize(text, Form.NFC);
            case "NFD" -> text -> java.text.Normalizer.normalize(text, Form.NFD);
            case "NFKC" -> text -> java.text.Normalizer.normalize(text, Form.NFKC);
            case "NFKD" -> text -> java.text.Normalizer.normalize(text, Form.NFKD);
            case "StripAccents" -> Normalizer::stripAccents;
            case "Replace" -> replace(map);
            case "Prepend" -> {
                String prefix = Json.string(map, "prepend", "normalizer");
                yield text -> text.isEmpty() ? text : prefix + text;
            }
            case "Strip" -> strip(Json.bool(map, "strip_left", true), Json.bool(map, "strip_right", true));
            case "Sequence" -> {
                List<Normalizer> steps = new ArrayList<>();
                for (Object step : Json.list(map.get("normalizers"), "normalizer.normalizers")) {
                    steps.add(fromJson(step));
                }
                yield text -> {
                    for (Normalizer step : steps) {
                        text = step.normalize(text);
                    }
                    return text;
                };
            }
            default -> throw new IllegalArgumentException("tokenizer.json: unsupported normalizer type " + type);
        };
    }

    private static Normalizer bert(Map<String, Object> map) {
        boolean clean = Json.bool(map, "clean_text", true);
        boolean chinese = Json.bool(map, "handle_chinese_chars", true);
        boolean lowercase = Json.bool(map, "lowercase", true);
        // strip_accents: null means "follow lowercase", as in the tokenizers crate
        boolean strip = map.get("strip_accents") instanceof Boolean b ? b : lowercase;
        return text -> {
            StringBuilder out = new StringBuilder(text.length() + 8);
            text.codePoints().forEach(cp -> {
                if (clean) {
                    if (cp == 0 || cp == 0xFFFD || Chars.isControl(cp)) {
                        return;
                    }
                    if (Chars.isWhitespace(cp)) {
                        cp = ' ';
                    }
                }
                if (chinese && Chars.isChinese(cp)) {
                    out.append(' ').appendCodePoint(cp).append(' ');
                } else {
                    out.appendCodePoint(cp);
                }
            });
            String result = out.toString();
            if (strip) {
                result = stripAccents(result);
            }
            return lowercase ? lowercase(result) : result;
        };
    }

    static String stripAccents(String text) {
        String nfd = java.text.Normalizer.normalize(text, Form.NFD);
        StringBuilder out = new StringBuilder(nfd.length());
        nfd.codePoints().filter(cp -> Character.getType(cp) != Character.NON_SPACING_MARK).forEach(out::appendCodePoint);
        return out.toString();
    }

    static String lowercase(String text) {
        StringBuilder out = new StringBuilder(text.length());
        text.codePoints().forEach(cp -> Chars.appendLowercase(out, cp));
        return out.toString();
    }

    /** Replace every match of a literal string or a regex (SentencePiece-style " " -> "▁"). */
    private static Normalizer replace(Map<String, Object> map) {
        Map<String, Object> pattern = Json.map(map.get("pattern"), "normalizer.pattern");
        String content = Json.string(map, "content", "normalizer");
        if (pattern.get("String") instanceof String literal) {
            return text -> text.replace(literal, content);
        }
        if (pattern.get("Regex") instanceof String regex) {
            java.util.regex.Pattern compiled = java.util.regex.Pattern.compile(regex, java.util.regex.Pattern.UNICODE_CHARACTER_CLASS);
            String replacement = java.util.regex.Matcher.quoteReplacement(content);
            return text -> compiled.matcher(text).replaceAll(replacement);
        }
        throw new IllegalArgumentException("tokenizer.json: Replace pattern must be {\"String\": ...} or {\"Regex\": ...}");
    }

    private static Normalizer strip(boolean left, boolean right) {
        return text -> {
            int[] cps = text.codePoints().toArray();
            int start = 0;
            int end = cps.length;
            while (left && start < end && Chars.isWhitespace(cps[start])) {
                start++;
            }
            while (right && end > start && Chars.isWhitespace(cps[end - 1])) {
                end--;
            }
            return new String(cps, start, end - start);
        };
    }
}
