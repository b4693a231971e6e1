package org.lightretriever.opensearch.tokenize;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * tokenizer.json `Split` with each of its four behaviours (the test vectors' tokenizers use only Isolated and
 * MergedWithPrevious). Expected pieces are what the `tokenizers` crate returns (Python:
 * `pre_tokenizers.Split(pattern, behavior).pre_tokenize_str(text)`, tokenizers 0.23.3).
 */
class PreTokenizerTest {
    private static List<String> split(Map<String, Object> pattern, String behavior, String text) {
        return PreTokenizer.fromJson(Map.of("type", "Split", "pattern", pattern, "behavior", behavior, "invert", false))
            .split(text);
    }

    @Test
    void stringPattern() {
        Map<String, Object> dash = Map.of("String", "-");
        String text = "the-final--countdown-";
        assertEquals(List.of("the", "-", "final", "-", "-", "countdown", "-"), split(dash, "Isolated", text));
        assertEquals(List.of("the", "final", "countdown"), split(dash, "Removed", text));
        assertEquals(List.of("the-", "final-", "-", "countdown-"), split(dash, "MergedWithPrevious", text));
        assertEquals(List.of("the", "-final", "-", "-countdown", "-"), split(dash, "MergedWithNext", text));
    }

    @Test
    void regexPatternMatchingAtBothEnds() {
        Map<String, Object> digits = Map.of("Regex", "\\d+");
        String text = "12ab345c6";
        assertEquals(List.of("12", "ab", "345", "c", "6"), split(digits, "Isolated", text));
        assertEquals(List.of("ab", "c"), split(digits, "Removed", text));
        assertEquals(List.of("12", "ab345", "c6"), split(digits, "MergedWithPrevious", text));
        assertEquals(List.of("12ab", "345c", "6"), split(digits, "MergedWithNext", text));
    }

    @Test
    void spaces() {
        Map<String, Object> space = Map.of("String", " ");
        String text = " hello  world ";
        assertEquals(List.of(" ", "hello", " ", " ", "world", " "), split(space, "Isolated", text));
        assertEquals(List.of("hello", "world"), split(space, "Removed", text));
        assertEquals(List.of(" ", "hello ", " ", "world "), split(space, "MergedWithPrevious", text));
        assertEquals(List.of(" hello", " ", " world", " "), split(space, "MergedWithNext", text));
    }
}
