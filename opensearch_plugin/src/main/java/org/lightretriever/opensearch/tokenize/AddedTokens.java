package org.lightretriever.opensearch.tokenize;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * tokenizer.json `added_tokens` that match the raw text (normalized=false, e.g. [CLS], <|eot_id|>): they are
 * split out before normalisation, leftmost-longest, exactly like the tokenizers crate.
 */
final class AddedTokens {
    record Token(String content, int id, boolean lstrip, boolean rstrip) {}

    /** A piece of the input: either plain text (id < 0) or an added token. */
    record Segment(String text, int id) {}

    private final List<Token> tokens;

    private AddedTokens(List<Token> tokens) {
        this.tokens = tokens;
    }

    static AddedTokens fromJson(Object spec) {
        List<Token> tokens = new ArrayList<>();
        if (spec != null) {
            for (Object entry : Json.list(spec, "added_tokens")) {
                Map<String, Object> t = Json.map(entry, "added_tokens[]");
                if (Json.bool(t, "normalized", false)) {
                    continue; // matched after normalisation by the model vocabulary itself
                }
                String content = Json.string(t, "content", "added_tokens[]");
                if (!content.isEmpty()) {
                    tokens.add(new Token(content, Json.integer(t.get("id"), "added_tokens[].id"),
                        Json.bool(t, "lstrip", false), Json.bool(t, "rstrip", false)));
                }
            }
        }
        return new AddedTokens(tokens);
    }

    List<Segment> split(String text) {
        List<Segment> out = new ArrayList<>();
        if (tokens.isEmpty()) {
            out.add(new Segment(text, -1));
            return out;
        }
        int plainStart = 0;
        int pos = 0;
        while (pos < text.length()) {
            Token match = null;
            for (Token t : tokens) {
                if (text.startsWith(t.content, pos) && (match == null || t.content.length() > match.content.length())) {
                    match = t;
                }
            }
            if (match == null) {
                pos++;
                continue;
            }
            int start = pos;
            int end = pos + match.content.length();
            if (match.lstrip) {
                while (start > plainStart && Character.isWhitespace(text.charAt(start - 1))) {
                    start--;
                }
            }
            if (match.rstrip) {
                while (end < text.length() && Character.isWhitespace(text.charAt(end))) {
                    end++;
                }
            }
            if (start > plainStart) {
                out.add(new Segment(text.substring(plainStart, start), -1));
            }
            out.add(new Segment(match.content, match.id));
            plainStart = end;
            pos = end;
        }
        if (plainStart < text.length()) {
            out.add(new Segment(text.substring(plainStart), -1));
        }
        return out;
    }
}
