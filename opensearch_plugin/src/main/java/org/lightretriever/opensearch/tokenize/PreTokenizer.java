package org.lightretriever.opensearch.tokenize;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** tokenizer.json `pre_tokenizer`: BertPreTokenizer, ByteLevel, Split, Whitespace, WhitespaceSplit, Sequence. */
@FunctionalInterface
interface PreTokenizer {
    /** Splits one piece into the pieces the model sees (empty pieces are dropped). */
    List<String> split(String piece);

    PreTokenizer NONE = List::of;

    /** GPT-2's regex; onig's \s is Unicode whitespace, hence UNICODE_CHARACTER_CLASS. */
    Pattern GPT2 = Pattern.compile(
        "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+",
        Pattern.UNICODE_CHARACTER_CLASS
    );

    static PreTokenizer fromJson(Object spec) {
        if (spec == null) {
            return NONE;
        }
        Map<String, Object> map = Json.map(spec, "pre_tokenizer");
        String type = Json.string(map, "type", "pre_tokenizer");
        return switch (type) {
            case "BertPreTokenizer" -> PreTokenizer::bert;
            case "ByteLevel" -> byteLevel(Json.bool(map, "add_prefix_space", true), Json.bool(map, "use_regex", true));
            case "Split" -> split(map);
            case "Whitespace" -> matches(Pattern.compile("\\w+|[^\\w\\s]+", Pattern.UNICODE_CHARACTER_CLASS));
            case "WhitespaceSplit" -> matches(Pattern.compile("\\S+", Pattern.UNICODE_CHARACTER_CLASS));
            case "Sequence" -> {
                List<PreTokenizer> steps = new ArrayList<>();
                for (Object step : Json.list(map.get("pretokenizers"), "pre_tokenizer.pretokenizers")) {
                    steps.add(fromJson(step));
                }
                yield piece -> {
                    List<String> pieces = List.of(piece);
                    for (PreTokenizer step : steps) {
                        List<String> next = new ArrayList<>();
                        for (String p : pieces) {
                            next.addAll(step.split(p));
                        }
                        pieces = next;
                    }
                    return pieces;
                };
            }
            default -> throw new IllegalArgumentException("tokenizer.json: unsupported pre_tokenizer type " + type);
        };
    }

    /** Whitespace removed; every punctuation character becomes its own piece. */
    private static List<String> bert(String text) {
        List<String> out = new ArrayList<>();
        StringBuilder word = new StringBuilder();
        text.codePoints().forEach(cp -> {
            if (Chars.isWhitespace(cp)) {
                flush(word, out);
            } else if (Chars.isPunctuation(cp)) {
                flush(word, out);
                out.add(new String(Character.toChars(cp)));
            } else {
                word.appendCodePoint(cp);
            }
        });
        flush(word, out);
        return out;
    }

    private static void flush(StringBuilder word, List<String> out) {
        if (!word.isEmpty()) {
            out.add(word.toString());
            word.setLength(0);
        }
    }

    private static PreTokenizer byteLevel(boolean addPrefixSpace, boolean useRegex) {
        return piece -> {
            String text = addPrefixSpace && !piece.startsWith(" ") ? " " + piece : piece;
            List<String> pieces = useRegex ? splitIsolated(GPT2, text) : List.of(text);
            List<String> out = new ArrayList<>(pieces.size());
            for (String p : pieces) {
                out.add(ByteLevel.encode(p));
            }
            return out;
        };
    }

    private static PreTokenizer split(Map<String, Object> map) {
        Map<String, Object> pattern = Json.map(map.get("pattern"), "pre_tokenizer.pattern");
        Pattern regex;
        if (pattern.get("Regex") instanceof String r) {
            regex = Pattern.compile(r, Pattern.UNICODE_CHARACTER_CLASS);
        } else if (pattern.get("String") instanceof String s) {
            regex = Pattern.compile(Pattern.quote(s));
        } else {
            throw new IllegalArgumentException("tokenizer.json: Split pattern must be {\"Regex\": ...} or {\"String\": ...}");
        }
        if (Json.bool(map, "invert", false)) {
            return matches(regex);
        }
        String behavior = Json.string(map, "behavior", "pre_tokenizer");
        return switch (behavior) {
            case "Isolated" -> piece -> splitIsolated(regex, piece);
            case "Removed" -> piece -> splitRemoved(regex, piece);
            case "MergedWithPrevious" -> piece -> splitMerged(regex, piece, true);
            case "MergedWithNext" -> piece -> splitMerged(regex, piece, false);
            default -> throw new IllegalArgumentException("tokenizer.json: unsupported Split behavior " + behavior);
        };
    }

    /** Only the matches are kept (Rust: split(Invert(re), Removed)). */
    private static PreTokenizer matches(Pattern regex) {
        return piece -> {
            List<String> out = new ArrayList<>();
            Matcher m = regex.matcher(piece);
            while (m.find()) {
                if (m.end() > m.start()) {
                    out.add(m.group());
                }
            }
            return out;
        };
    }

    /** Matches and the gaps between them, each its own piece. */
    static List<String> splitIsolated(Pattern regex, String text) {
        List<String> out = new ArrayList<>();
        Matcher m = regex.matcher(text);
        int last = 0;
        while (m.find()) {
            if (m.end() == m.start()) {
                continue;
            }
            if (m.start() > last) {
                out.add(text.substring(last, m.start()));
            }
            out.add(m.group());
            last = m.end();
        }
        if (last < text.length()) {
            out.add(text.substring(last));
        }
        return out;
    }

    private static List<String> splitRemoved(Pattern regex, String text) {
        List<String> out = new ArrayList<>();
        Matcher m = regex.matcher(text);
        int last = 0;
        while (m.find()) {
            if (m.end() == m.start()) {
                continue;
            }
            if (m.start() > last) {
                out.add(text.substring(last, m.start()));
            }
            last = m.end();
        }
        if (last < text.length()) {
            out.add(text.substring(last));
        }
        return out;
    }

    private static List<String> splitMerged(Pattern regex, String text, boolean withPrevious) {
        List<String> out = new ArrayList<>();
        Matcher m = regex.matcher(text);
        int start = 0;
        while (m.find()) {
            if (m.end() == m.start()) {
                continue;
            }
            int cut = withPrevious ? m.end() : m.start();
            if (cut > start) {
                out.add(text.substring(start, cut));
                start = cut;
            }
        }
        if (start < text.length()) {
            out.add(text.substring(start));
        }
        return out;
    }
}
