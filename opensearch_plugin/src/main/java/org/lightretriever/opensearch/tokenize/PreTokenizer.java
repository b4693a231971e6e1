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
            List<String> pieces = useRegex ? splitBy(GPT2, text, Behavior.ISOLATED) : List.of(text);
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
        Behavior how = switch (behavior) {
            case "Isolated" -> Behavior.ISOLATED;
            case "Removed" -> Behavior.REMOVED;
            case "MergedWithPrevious" -> Behavior.MERGED_WITH_PREVIOUS;
            case "MergedWithNext" -> Behavior.MERGED_WITH_NEXT;
            default -> throw new IllegalArgumentException("tokenizer.json: unsupported Split behavior " + behavior);
        };
        return piece -> splitBy(regex, piece, how);
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

    /** Split behaviours: where a (non-empty) match cuts the text and whether the match is kept. */
    enum Behavior { ISOLATED, REMOVED, MERGED_WITH_PREVIOUS, MERGED_WITH_NEXT }

    /** Isolated: matches and the gaps between them, each its own piece; Removed: the gaps only; MergedWith*: each
     * match joins the gap before (Previous) or after (Next) it. */
    static List<String> splitBy(Pattern regex, String text, Behavior behavior) {
        List<String> out = new ArrayList<>();
        Matcher m = regex.matcher(text);
        int start = 0;
        while (m.find()) {
            if (m.end() == m.start()) {
                continue;
            }
            switch (behavior) {
                case ISOLATED, REMOVED -> {
                    addPiece(out, text, start, m.start());
                    if (behavior == Behavior.ISOLATED) {
                        out.add(m.group());
                    }
                    start = m.end();
                }
                case MERGED_WITH_PREVIOUS -> {
                    addPiece(out, text, start, m.end());
                    start = m.end();
                }
                case MERGED_WITH_NEXT -> {
                    addPiece(out, text, start, m.start());
                    start = m.start();
                }
            }
        }
        addPiece(out, text, start, text.length());
        return out;
    }

    private static void addPiece(List<String> out, String text, int from, int to) {
        if (to > from) {
            out.add(text.substring(from, to));
        }
    }
}
