package org.lightretriever.opensearch.fusion;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * LightGBM's text model format, parsed and evaluated in plain Java (numerical splits; shrinkage is already
 * folded into leaf_value). Raw score = sum of the trees' leaf values, like predict(raw_score=True).
 */
public final class LightGbmModel {
    private static final double ZERO_THRESHOLD = 1e-35;

    private record Tree(int[] feature, double[] threshold, int[] decisionType, int[] left, int[] right, double[] leafValue) {
        double predict(double[] x) {
            if (feature.length == 0) {
                return leafValue[0];
            }
            int node = 0;
            while (node >= 0) {
                double value = x[feature[node]];
                int type = decisionType[node];
                boolean defaultLeft = (type & 2) != 0;
                int missing = (type >> 2) & 3; // 0 none, 1 zero, 2 NaN
                if (Double.isNaN(value) && missing != 2) {
                    value = 0.0;
                }
                boolean goLeft;
                if ((missing == 1 && value >= -ZERO_THRESHOLD && value <= ZERO_THRESHOLD) || (missing == 2 && Double.isNaN(value))) {
                    goLeft = defaultLeft;
                } else {
                    goLeft = value <= threshold[node];
                }
                node = goLeft ? left[node] : right[node];
            }
            return leafValue[~node];
        }
    }

    private final List<Tree> trees;
    private final int numFeatures;

    private LightGbmModel(List<Tree> trees, int numFeatures) {
        this.trees = trees;
        this.numFeatures = numFeatures;
    }

    public int numFeatures() {
        return numFeatures;
    }

    public int numTrees() {
        return trees.size();
    }

    public double predictRaw(double[] x) {
        if (x.length != numFeatures) {
            throw new IllegalArgumentException("expected " + numFeatures + " features, got " + x.length);
        }
        double sum = 0.0;
        for (Tree t : trees) {
            sum += t.predict(x);
        }
        return sum;
    }

    /** @throws IllegalArgumentException naming the line or key that is missing or unsupported */
    public static LightGbmModel parse(String text) {
        String[] lines = text.split("\r?\n");
        Map<String, String> header = new HashMap<>();
        int i = 0;
        while (i < lines.length && !lines[i].startsWith("Tree=")) {
            putKeyValue(header, lines[i]);
            i++;
        }
        int perIteration = Integer.parseInt(header.getOrDefault("num_tree_per_iteration", "1"));
        if (perIteration != 1 || !"1".equals(header.getOrDefault("num_class", "1"))) {
            throw new IllegalArgumentException("learned.txt: only single-output models are supported (num_tree_per_iteration=1)");
        }
        if (header.containsKey("average_output")) {
            throw new IllegalArgumentException("learned.txt: random-forest models (average_output) are not supported");
        }
        if (!header.containsKey("max_feature_idx")) {
            throw new IllegalArgumentException("learned.txt: not a LightGBM text model (no max_feature_idx)");
        }
        int numFeatures = Integer.parseInt(header.get("max_feature_idx").trim()) + 1;
        List<Tree> trees = new ArrayList<>();
        while (i < lines.length && lines[i].startsWith("Tree=")) {
            Map<String, String> t = new HashMap<>();
            String name = lines[i++];
            while (i < lines.length && !lines[i].isBlank() && !lines[i].startsWith("Tree=") && !lines[i].startsWith("end of trees")) {
                putKeyValue(t, lines[i++]);
            }
            trees.add(tree(name, t, numFeatures));
            while (i < lines.length && lines[i].isBlank()) {
                i++;
            }
        }
        if (trees.isEmpty()) {
            throw new IllegalArgumentException("learned.txt: no trees");
        }
        return new LightGbmModel(trees, numFeatures);
    }

    private static void putKeyValue(Map<String, String> map, String line) {
        int eq = line.indexOf('=');
        if (eq > 0) {
            map.put(line.substring(0, eq).trim(), line.substring(eq + 1));
        }
    }

    private static Tree tree(String name, Map<String, String> t, int numFeatures) {
        int leaves = Integer.parseInt(require(t, "num_leaves", name).trim());
        double[] leafValue = doubles(require(t, "leaf_value", name));
        if (leaves <= 1) {
            return new Tree(new int[0], new double[0], new int[0], new int[0], new int[0], leafValue);
        }
        if (Integer.parseInt(t.getOrDefault("num_cat", "0").trim()) > 0) {
            throw new IllegalArgumentException("learned.txt " + name + ": categorical splits are not supported");
        }
        int[] feature = ints(require(t, "split_feature", name));
        for (int f : feature) {
            if (f < 0 || f >= numFeatures) {
                throw new IllegalArgumentException("learned.txt " + name + ": split feature " + f + " out of range");
            }
        }
        int[] decision = ints(require(t, "decision_type", name));
        for (int d : decision) {
            if ((d & 1) != 0) {
                throw new IllegalArgumentException("learned.txt " + name + ": categorical split is not supported");
            }
        }
        Tree tree = new Tree(feature, doubles(require(t, "threshold", name)), decision,
            ints(require(t, "left_child", name)), ints(require(t, "right_child", name)), leafValue);
        if (tree.threshold.length != leaves - 1 || tree.left.length != leaves - 1 || tree.right.length != leaves - 1
            || leafValue.length != leaves) {
            throw new IllegalArgumentException("learned.txt " + name + ": array lengths do not match num_leaves=" + leaves);
        }
        return tree;
    }

    private static String require(Map<String, String> t, String key, String name) {
        String value = t.get(key);
        if (value == null) {
            throw new IllegalArgumentException("learned.txt " + name + ": missing " + key);
        }
        return value;
    }

    private static int[] ints(String s) {
        String[] parts = s.trim().split("\\s+");
        int[] out = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            out[i] = Integer.parseInt(parts[i]);
        }
        return out;
    }

    private static double[] doubles(String s) {
        String[] parts = s.trim().split("\\s+");
        double[] out = new double[parts.length];
        for (int i = 0; i < parts.length; i++) {
            out[i] = Double.parseDouble(parts[i]);
        }
        return out;
    }
}
