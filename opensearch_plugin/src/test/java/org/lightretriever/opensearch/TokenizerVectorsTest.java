package org.lightretriever.opensearch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.lightretriever.opensearch.tokenize.HfTokenizer;

/** Java tokenisation == Python `tokenizers` ids (add_special_tokens=False) for every shared vector. */
class TokenizerVectorsTest {
    @Test
    void everyTokenizerReproducesEveryVector() throws Exception {
        Map<String, Object> all = Vectors.json("tokenization.json");
        assertTrue(all.size() >= 4, "expected MiniLM + BPE tokenizers in tokenization.json");
        List<String> failures = new ArrayList<>();
        int checked = 0;
        for (Map.Entry<String, Object> entry : all.entrySet()) {
            HfTokenizer tokenizer = HfTokenizer.fromJson(Vectors.json(Vectors.get(entry.getValue(), "file")));
            List<Object> cases = Vectors.get(entry.getValue(), "cases");
            for (Object c : cases) {
                String text = Vectors.get(c, "text");
                int[] expected = Vectors.ints(Vectors.get(c, "ids"));
                int[] actual = tokenizer.encode(text);
                checked++;
                if (!Arrays.equals(expected, actual)) {
                    failures.add(entry.getKey() + " " + escape(text) + "\n  python " + Arrays.toString(expected) + "\n  java   " + Arrays.toString(actual));
                }
            }
        }
        assertTrue(checked > 100, "too few vectors: " + checked);
        assertEquals(List.of(), failures, failures.size() + " of " + checked + " tokenisations differ");
    }

    @Test
    void unsupportedComponentsAreNamed() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> HfTokenizer.fromJson(Map.of(
            "model", Map.of("type", "Unigram", "vocab", List.of()))));
        assertTrue(e.getMessage().contains("Unigram"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> HfTokenizer.fromJson(Map.of(
            "pre_tokenizer", Map.of("type", "Metaspace"),
            "model", Map.of("type", "WordPiece", "vocab", Map.of("[UNK]", 0), "unk_token", "[UNK]"))));
        assertTrue(e.getMessage().contains("Metaspace"), e.getMessage());
    }

    private static String escape(String text) {
        StringBuilder out = new StringBuilder("\"");
        text.codePoints().forEach(cp -> {
            if (cp < 32 || (cp > 126 && cp < 160) || Character.getType(cp) == Character.FORMAT) {
                out.append(String.format("\\u%04x", cp));
            } else {
                out.appendCodePoint(cp);
            }
        });
        return out.append('"').toString();
    }
}
