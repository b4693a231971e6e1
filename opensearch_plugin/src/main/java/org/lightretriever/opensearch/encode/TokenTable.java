package org.lightretriever.opensearch.encode;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.opensearch.common.xcontent.json.JsonXContent;
import org.opensearch.core.xcontent.DeprecationHandler;
import org.opensearch.core.xcontent.NamedXContentRegistry;
import org.opensearch.core.xcontent.XContentParser;

/** The bundle's token table: tensor "table" [vocab_size, dense_dim] (F16 or F32) read from safetensors bytes. */
public final class TokenTable {
    public static final String TENSOR = "table";

    private final int rows;
    private final int dim;
    private final short[] half; // F16 bits, kept compact (a MiniLM table is 11.7M values)
    private final float[] full;

    private TokenTable(int rows, int dim, short[] half, float[] full) {
        this.rows = rows;
        this.dim = dim;
        this.half = half;
        this.full = full;
    }

    public static TokenTable fromSafetensors(byte[] bytes) {
        Header header = header(bytes);
        if (!(header.json().get(TENSOR) instanceof Map<?, ?> info)) {
            throw new IllegalArgumentException("token_table.safetensors: no tensor named \"table\" (found " + header.json().keySet() + ")");
        }
        String dtype = String.valueOf(info.get("dtype"));
        List<?> shape = (List<?>) info.get("shape");
        if (shape == null || shape.size() != 2) {
            throw new IllegalArgumentException("token_table.safetensors: table must be 2-D with data_offsets");
        }
        int rows = ((Number) shape.get(0)).intValue();
        int dim = ((Number) shape.get(1)).intValue();
        int n = Math.multiplyExact(rows, dim);
        int width = switch (dtype) {
            case "F16" -> 2;
            case "F32" -> 4;
            default -> throw new IllegalArgumentException("token_table.safetensors: dtype " + dtype + " not supported (F16, F32)");
        };
        ByteBuffer data = header.data(bytes, info, (long) n * width, "table must be 2-D with data_offsets",
            "data size does not match shape " + shape + " " + dtype);
        if (width == 2) {
            short[] half = new short[n];
            data.asShortBuffer().get(half);
            return new TokenTable(rows, dim, half, null);
        }
        float[] full = new float[n];
        data.asFloatBuffer().get(full);
        return new TokenTable(rows, dim, null, full);
    }

    /**
     * The per-token weights on the sparse query's counts (manifest query.sparse_weights): the F32 tensor
     * {@code tensor} of shape [rows], finite and non-negative, from the same safetensors file as the table.
     */
    public static float[] sparseWeightsFromSafetensors(byte[] bytes, String tensor, int rows) {
        Header header = header(bytes);
        String where = "token_table.safetensors: sparse weights \"" + tensor + "\"";
        if (!(header.json().get(tensor) instanceof Map<?, ?> info)) {
            throw new IllegalArgumentException(where + ": no such tensor (found " + header.json().keySet() + ")");
        }
        List<?> shape = (List<?>) info.get("shape");
        if (!"F32".equals(String.valueOf(info.get("dtype"))) || shape == null || shape.size() != 1
            || ((Number) shape.get(0)).intValue() != rows) {
            throw new IllegalArgumentException(where + " must be F32 of shape [" + rows + "], got " + info.get("dtype") + " " + shape);
        }
        float[] weights = new float[rows];
        header.data(bytes, info, rows * 4L, "needs data_offsets", "data size does not match shape " + shape).asFloatBuffer().get(weights);
        for (int i = 0; i < rows; i++) {
            if (!(weights[i] >= 0f) || Float.isInfinite(weights[i])) {
                throw new IllegalArgumentException(where + ": weight of token " + i + " is " + weights[i] + " (must be finite, >= 0)");
            }
        }
        return weights;
    }

    private record Header(Map<String, Object> json, long dataStart) {
        ByteBuffer data(byte[] bytes, Map<?, ?> info, long size, String noOffsets, String badSize) {
            List<?> offsets = (List<?>) info.get("data_offsets");
            if (offsets == null || offsets.size() != 2) {
                throw new IllegalArgumentException("token_table.safetensors: " + noOffsets);
            }
            long start = dataStart + ((Number) offsets.get(0)).longValue();
            long end = dataStart + ((Number) offsets.get(1)).longValue();
            if (start < dataStart || end > bytes.length || end - start != size) {
                throw new IllegalArgumentException("token_table.safetensors: " + badSize);
            }
            return ByteBuffer.wrap(bytes, (int) start, (int) (end - start)).slice().order(ByteOrder.LITTLE_ENDIAN);
        }
    }

    private static Header header(byte[] bytes) {
        if (bytes.length < 8) {
            throw new IllegalArgumentException("token_table.safetensors: file too short");
        }
        long headerLen = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        if (headerLen <= 0 || headerLen > bytes.length - 8) {
            throw new IllegalArgumentException("token_table.safetensors: bad header length " + headerLen);
        }
        try (XContentParser parser = JsonXContent.jsonXContent.createParser(NamedXContentRegistry.EMPTY,
            DeprecationHandler.IGNORE_DEPRECATIONS, new String(bytes, 8, (int) headerLen, StandardCharsets.UTF_8))) {
            return new Header(parser.map(), 8 + headerLen);
        } catch (IOException e) {
            throw new IllegalArgumentException("token_table.safetensors: header is not JSON: " + e.getMessage());
        }
    }

    public int rows() {
        return rows;
    }

    public int dim() {
        return dim;
    }

    /** Adds row `id` (as float32) into `acc`. */
    void addRow(int id, float[] acc) {
        int base = id * dim;
        if (half != null) {
            for (int j = 0; j < dim; j++) {
                acc[j] += Float.float16ToFloat(half[base + j]);
            }
        } else {
            for (int j = 0; j < dim; j++) {
                acc[j] += full[base + j];
            }
        }
    }

    public long bytes() {
        return half != null ? half.length * 2L : full.length * 4L;
    }
}
