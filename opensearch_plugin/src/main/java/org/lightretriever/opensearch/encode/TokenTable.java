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
        if (bytes.length < 8) {
            throw new IllegalArgumentException("token_table.safetensors: file too short");
        }
        ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        long headerLen = buf.getLong(0);
        if (headerLen <= 0 || headerLen > bytes.length - 8) {
            throw new IllegalArgumentException("token_table.safetensors: bad header length " + headerLen);
        }
        Map<String, Object> header;
        try (XContentParser parser = JsonXContent.jsonXContent.createParser(NamedXContentRegistry.EMPTY,
            DeprecationHandler.IGNORE_DEPRECATIONS, new String(bytes, 8, (int) headerLen, StandardCharsets.UTF_8))) {
            header = parser.map();
        } catch (IOException e) {
            throw new IllegalArgumentException("token_table.safetensors: header is not JSON: " + e.getMessage());
        }
        if (!(header.get(TENSOR) instanceof Map<?, ?> info)) {
            throw new IllegalArgumentException("token_table.safetensors: no tensor named \"table\" (found " + header.keySet() + ")");
        }
        String dtype = String.valueOf(info.get("dtype"));
        List<?> shape = (List<?>) info.get("shape");
        List<?> offsets = (List<?>) info.get("data_offsets");
        if (shape == null || shape.size() != 2 || offsets == null || offsets.size() != 2) {
            throw new IllegalArgumentException("token_table.safetensors: table must be 2-D with data_offsets");
        }
        int rows = ((Number) shape.get(0)).intValue();
        int dim = ((Number) shape.get(1)).intValue();
        long start = 8 + headerLen + ((Number) offsets.get(0)).longValue();
        long end = 8 + headerLen + ((Number) offsets.get(1)).longValue();
        int n = Math.multiplyExact(rows, dim);
        int width = switch (dtype) {
            case "F16" -> 2;
            case "F32" -> 4;
            default -> throw new IllegalArgumentException("token_table.safetensors: dtype " + dtype + " not supported (F16, F32)");
        };
        if (end > bytes.length || end - start != (long) n * width) {
            throw new IllegalArgumentException("token_table.safetensors: data size does not match shape " + shape + " " + dtype);
        }
        ByteBuffer data = ByteBuffer.wrap(bytes, (int) start, (int) (end - start)).slice().order(ByteOrder.LITTLE_ENDIAN);
        if (width == 2) {
            short[] half = new short[n];
            data.asShortBuffer().get(half);
            return new TokenTable(rows, dim, half, null);
        }
        float[] full = new float[n];
        data.asFloatBuffer().get(full);
        return new TokenTable(rows, dim, null, full);
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
