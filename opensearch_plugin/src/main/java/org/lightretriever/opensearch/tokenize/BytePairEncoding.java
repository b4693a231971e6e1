package org.lightretriever.opensearch.tokenize;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * BPE with ranked merges: repeatedly merge the adjacent pair with the lowest rank (leftmost on ties),
 * which is what the tokenizers crate's priority queue does. Supports byte_fallback, unk/fuse_unk,
 * continuing_subword_prefix, end_of_word_suffix and ignore_merges (Llama 3).
 */
record BytePairEncoding(Map<String, Integer> vocab, Map<Long, Merge> merges, Integer unkId, boolean fuseUnk,
                        boolean byteFallback, boolean ignoreMerges, String prefix, String suffix) implements Model {
    record Merge(int rank, int newId) {}

    static BytePairEncoding fromJson(Map<String, Object> map) {
        Map<String, Integer> vocab = Vocab.fromJson(map.get("vocab"));
        String prefix = Json.optString(map, "continuing_subword_prefix");
        Map<Long, Merge> merges = new HashMap<>();
        List<Object> raw = Json.list(map.get("merges"), "model.merges");
        for (int rank = 0; rank < raw.size(); rank++) {
            Object entry = raw.get(rank);
            String a;
            String b;
            if (entry instanceof String s) {
                int space = s.indexOf(' ');
                if (space < 0) {
                    throw new IllegalArgumentException("tokenizer.json: merge " + rank + " \"" + s + "\" has no space");
                }
                a = s.substring(0, space);
                b = s.substring(space + 1);
            } else {
                List<Object> pair = Json.list(entry, "model.merges[" + rank + "]");
                a = (String) pair.get(0);
                b = (String) pair.get(1);
            }
            Integer idA = vocab.get(a);
            Integer idB = vocab.get(b);
            String merged = a + (prefix != null && b.startsWith(prefix) ? b.substring(prefix.length()) : b);
            Integer newId = vocab.get(merged);
            if (idA == null || idB == null || newId == null) {
                throw new IllegalArgumentException("tokenizer.json: merge " + rank + " (" + a + " " + b + ") uses tokens missing from the vocabulary");
            }
            merges.putIfAbsent(key(idA, idB), new Merge(rank, newId));
        }
        String unk = Json.optString(map, "unk_token");
        Integer unkId = null;
        if (unk != null) {
            unkId = vocab.get(unk);
            if (unkId == null) {
                throw new IllegalArgumentException("tokenizer.json: BPE unk_token " + unk + " is not in the vocabulary");
            }
        }
        if (map.get("dropout") instanceof Number d && d.doubleValue() > 0) {
            throw new IllegalArgumentException("tokenizer.json: BPE dropout is random and cannot be reproduced; set it to null");
        }
        return new BytePairEncoding(vocab, merges, unkId, Json.bool(map, "fuse_unk", false), Json.bool(map, "byte_fallback", false),
            Json.bool(map, "ignore_merges", false), prefix, Json.optString(map, "end_of_word_suffix"));
    }

    private static long key(int a, int b) {
        return ((long) a << 32) | (b & 0xFFFFFFFFL);
    }

    @Override
    public void tokenize(String word, IntList out) {
        if (word.isEmpty()) {
            return;
        }
        if (ignoreMerges) {
            Integer whole = vocab.get(word);
            if (whole != null) {
                out.add(whole);
                return;
            }
        }
        List<Integer> symbols = initialSymbols(word);
        while (symbols.size() > 1) {
            int best = -1;
            Merge bestMerge = null;
            for (int i = 0; i + 1 < symbols.size(); i++) {
                Merge m = merges.get(key(symbols.get(i), symbols.get(i + 1)));
                if (m != null && (bestMerge == null || m.rank < bestMerge.rank)) {
                    best = i;
                    bestMerge = m;
                }
            }
            if (bestMerge == null) {
                break;
            }
            symbols.set(best, bestMerge.newId);
            symbols.remove(best + 1);
        }
        for (int id : symbols) {
            out.add(id);
        }
    }

    private List<Integer> initialSymbols(String word) {
        int[] cps = word.codePoints().toArray();
        List<Integer> symbols = new ArrayList<>(cps.length);
        boolean pendingUnk = false;
        for (int i = 0; i < cps.length; i++) {
            String s = new String(Character.toChars(cps[i]));
            if (prefix != null && i > 0) {
                s = prefix + s;
            }
            if (suffix != null && i == cps.length - 1) {
                s = s + suffix;
            }
            Integer id = vocab.get(s);
            if (id != null) {
                symbols.add(id);
                pendingUnk = false;
                continue;
            }
            if (byteFallback) {
                byte[] bytes = new String(Character.toChars(cps[i])).getBytes(StandardCharsets.UTF_8);
                List<Integer> ids = new ArrayList<>();
                for (byte b : bytes) {
                    Integer byteId = vocab.get(String.format("<0x%02X>", b & 0xFF));
                    if (byteId == null) {
                        ids = null;
                        break;
                    }
                    ids.add(byteId);
                }
                if (ids != null) {
                    symbols.addAll(ids);
                    pendingUnk = false;
                    continue;
                }
            }
            if (unkId != null && !(fuseUnk && pendingUnk)) {
                symbols.add(unkId);
                pendingUnk = true;
            }
            // no unk token: the character is dropped, as in the tokenizers crate
        }
        return symbols;
    }

    @Override
    public int vocabSize() {
        return Vocab.size(vocab);
    }
}
