package org.lightretriever.opensearch.query;

import java.util.Map;
import org.opensearch.action.search.SearchRequest;
import org.opensearch.cluster.ClusterState;
import org.opensearch.cluster.metadata.IndexMetadata;
import org.opensearch.cluster.metadata.IndexNameExpressionResolver;
import org.opensearch.cluster.metadata.MappingMetadata;

/** On the coordinating node: the dense field of every searched index is a knn_vector of the model's dimension. */
final class DenseFieldCheck {
    private DenseFieldCheck() {}

    @SuppressWarnings("unchecked")
    static void check(ClusterState state, IndexNameExpressionResolver resolver, SearchRequest search, String field, String model, int dim) {
        for (String index : resolver.concreteIndexNames(state, search)) {
            IndexMetadata metadata = state.metadata().index(index);
            MappingMetadata mapping = metadata == null ? null : metadata.mapping();
            Map<String, Object> node = mapping == null ? Map.of() : mapping.sourceAsMap();
            for (String part : field.split("\\.")) {
                Object properties = node.get("properties");
                Object child = properties instanceof Map<?, ?> p ? p.get(part) : null;
                node = child instanceof Map<?, ?> c ? (Map<String, Object>) c : null;
                if (node == null) {
                    throw new IllegalArgumentException("[lightretriever] index [" + index + "] has no field [" + field + "]");
                }
            }
            Object type = node.get("type");
            if (!"knn_vector".equals(type)) {
                throw new IllegalArgumentException("[lightretriever] field [" + field + "] is a [" + type + "], not a knn_vector");
            }
            if (node.get("dimension") instanceof Number fieldDim && fieldDim.intValue() != dim) {
                throw new IllegalArgumentException("[lightretriever] model [" + model + "] has dimension " + dim + " but field [" + field
                    + "] of index [" + index + "] has dimension " + fieldDim);
            }
        }
    }
}
