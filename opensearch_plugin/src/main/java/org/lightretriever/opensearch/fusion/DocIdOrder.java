package org.lightretriever.opensearch.fusion;

/** Tie-break order of fused hits: doc ids by Unicode code point, as Python compares strings (design.md). */
public final class DocIdOrder {
    private DocIdOrder() {}

    public static int compare(String a, String b) {
        int i = 0;
        int j = 0;
        while (i < a.length() && j < b.length()) {
            int ca = a.codePointAt(i);
            int cb = b.codePointAt(j);
            if (ca != cb) {
                return Integer.compare(ca, cb);
            }
            i += Character.charCount(ca);
            j += Character.charCount(cb);
        }
        return Integer.compare(a.length() - i, b.length() - j);
    }
}
