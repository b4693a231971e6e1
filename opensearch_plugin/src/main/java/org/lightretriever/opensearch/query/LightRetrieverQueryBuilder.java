package org.lightretriever.opensearch.query;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.apache.lucene.search.Query;
import org.lightretriever.opensearch.LightRetrieverPlugin;
import org.lightretriever.opensearch.encode.QueryEncoding;
import org.lightretriever.opensearch.fusion.Fusion;
import org.lightretriever.opensearch.fusion.Fusions;
import org.lightretriever.opensearch.registry.LightModel;
import org.opensearch.core.ParseField;
import org.opensearch.core.action.ActionListener;
import org.opensearch.core.common.ParsingException;
import org.opensearch.core.common.io.stream.StreamInput;
import org.opensearch.core.common.io.stream.StreamOutput;
import org.opensearch.core.xcontent.XContentBuilder;
import org.opensearch.core.xcontent.XContentParser;
import org.opensearch.index.query.AbstractQueryBuilder;
import org.opensearch.index.query.QueryBuilder;
import org.opensearch.index.query.QueryRewriteContext;
import org.opensearch.index.query.QueryShardContext;

/**
 * {"lightretriever": {"query": "text", "model": "name", "k": 100, "fusion": "linear|rrf|learned", "filter": {...},
 * "dense_field": "dense", "sparse_field": "sparse", "text_fields": ["title", "text"], "systems": [...]}}.
 * The model is loaded (asynchronously, from the system index) during rewrite; the shard then encodes the
 * text, runs each system's sub-query and fuses (see {@link ShardFusion}).
 */
public final class LightRetrieverQueryBuilder extends AbstractQueryBuilder<LightRetrieverQueryBuilder> {
    public static final String NAME = "lightretriever";
    public static final int MAX_K = 10_000;
    private static final ParseField QUERY = new ParseField("query");
    private static final ParseField MODEL = new ParseField("model");
    private static final ParseField K = new ParseField("k");
    private static final ParseField FUSION = new ParseField("fusion");
    private static final ParseField FILTER = new ParseField("filter");
    private static final ParseField DENSE_FIELD = new ParseField("dense_field");
    private static final ParseField SPARSE_FIELD = new ParseField("sparse_field");
    private static final ParseField TEXT_FIELDS = new ParseField("text_fields");
    private static final ParseField SYSTEMS = new ParseField("systems");

    private final String text;
    private final String model;
    private final int k;
    private final String fusion;
    private final QueryBuilder filter;
    private final String denseField;
    private final String sparseField;
    private final List<String> textFields;
    private final List<String> systems;

    public LightRetrieverQueryBuilder(String text, String model, int k, String fusion, QueryBuilder filter, String denseField,
                                      String sparseField, List<String> textFields, List<String> systems) {
        if (text == null || text.strip().isEmpty()) {
            throw new IllegalArgumentException("[" + NAME + "] query text is empty");
        }
        if (model == null || model.isEmpty()) {
            throw new IllegalArgumentException("[" + NAME + "] requires a model name");
        }
        if (k < 1 || k > MAX_K) {
            throw new IllegalArgumentException("[" + NAME + "] k must be between 1 and " + MAX_K + ", got " + k);
        }
        if (fusion != null && !Fusions.NAMES.contains(fusion)) {
            throw new IllegalArgumentException("[" + NAME + "] unknown fusion [" + fusion + "]; choose one of " + Fusions.NAMES);
        }
        if (systems != null && (systems.isEmpty() || !LightModel.ALL_SYSTEMS.containsAll(systems))) {
            throw new IllegalArgumentException("[" + NAME + "] systems " + systems + ": choose from " + LightModel.ALL_SYSTEMS);
        }
        if (textFields.isEmpty()) {
            throw new IllegalArgumentException("[" + NAME + "] text_fields must not be empty");
        }
        this.text = text;
        this.model = model;
        this.k = k;
        this.fusion = fusion;
        this.filter = filter;
        this.denseField = denseField;
        this.sparseField = sparseField;
        this.textFields = List.copyOf(textFields);
        // null: the systems the fusion needs; always in the fixed order dense, sparse, bm25 (as Python runs them)
        this.systems = systems == null ? null : LightModel.ALL_SYSTEMS.stream().filter(systems::contains).toList();
    }

    public LightRetrieverQueryBuilder(StreamInput in) throws IOException {
        super(in);
        text = in.readString();
        model = in.readString();
        k = in.readVInt();
        fusion = in.readOptionalString();
        filter = in.readOptionalNamedWriteable(QueryBuilder.class);
        denseField = in.readString();
        sparseField = in.readString();
        textFields = in.readStringList();
        systems = in.readOptionalStringList();
    }

    @Override
    protected void doWriteTo(StreamOutput out) throws IOException {
        out.writeString(text);
        out.writeString(model);
        out.writeVInt(k);
        out.writeOptionalString(fusion);
        out.writeOptionalNamedWriteable(filter);
        out.writeString(denseField);
        out.writeString(sparseField);
        out.writeStringCollection(textFields);
        out.writeOptionalStringCollection(systems);
    }

    @Override
    protected void doXContent(XContentBuilder builder, Params params) throws IOException {
        builder.startObject(NAME);
        builder.field(QUERY.getPreferredName(), text);
        builder.field(MODEL.getPreferredName(), model);
        builder.field(K.getPreferredName(), k);
        if (fusion != null) {
            builder.field(FUSION.getPreferredName(), fusion);
        }
        if (filter != null) {
            builder.field(FILTER.getPreferredName(), filter);
        }
        builder.field(DENSE_FIELD.getPreferredName(), denseField);
        builder.field(SPARSE_FIELD.getPreferredName(), sparseField);
        builder.field(TEXT_FIELDS.getPreferredName(), textFields);
        if (systems != null) {
            builder.field(SYSTEMS.getPreferredName(), systems);
        }
        printBoostAndQueryName(builder);
        builder.endObject();
    }

    public static LightRetrieverQueryBuilder fromXContent(XContentParser parser) throws IOException {
        String text = null;
        String model = null;
        int k = 100;
        String fusion = null;
        QueryBuilder filter = null;
        String denseField = "dense";
        String sparseField = "sparse";
        List<String> textFields = List.of("title", "text");
        List<String> systems = null;
        float boost = DEFAULT_BOOST;
        String queryName = null;
        String current = null;
        XContentParser.Token token;
        while ((token = parser.nextToken()) != XContentParser.Token.END_OBJECT) {
            if (token == XContentParser.Token.FIELD_NAME) {
                current = parser.currentName();
            } else if (token == XContentParser.Token.START_OBJECT && FILTER.match(current, parser.getDeprecationHandler())) {
                filter = parseInnerQueryBuilder(parser);
            } else if (token == XContentParser.Token.START_ARRAY && TEXT_FIELDS.match(current, parser.getDeprecationHandler())) {
                textFields = strings(parser);
            } else if (token == XContentParser.Token.START_ARRAY && SYSTEMS.match(current, parser.getDeprecationHandler())) {
                systems = strings(parser);
            } else if (token.isValue()) {
                if (QUERY.match(current, parser.getDeprecationHandler())) {
                    text = parser.text();
                } else if (MODEL.match(current, parser.getDeprecationHandler())) {
                    model = parser.text();
                } else if (K.match(current, parser.getDeprecationHandler())) {
                    k = parser.intValue();
                } else if (FUSION.match(current, parser.getDeprecationHandler())) {
                    fusion = parser.text();
                } else if (DENSE_FIELD.match(current, parser.getDeprecationHandler())) {
                    denseField = parser.text();
                } else if (SPARSE_FIELD.match(current, parser.getDeprecationHandler())) {
                    sparseField = parser.text();
                } else if (BOOST_FIELD.match(current, parser.getDeprecationHandler())) {
                    boost = parser.floatValue();
                } else if (NAME_FIELD.match(current, parser.getDeprecationHandler())) {
                    queryName = parser.text();
                } else {
                    throw new ParsingException(parser.getTokenLocation(), "[" + NAME + "] unknown field [" + current + "]");
                }
            } else {
                throw new ParsingException(parser.getTokenLocation(), "[" + NAME + "] unexpected token [" + token + "] for [" + current + "]");
            }
        }
        try {
            LightRetrieverQueryBuilder builder = new LightRetrieverQueryBuilder(text, model, k, fusion, filter, denseField, sparseField,
                textFields, systems);
            builder.boost(boost);
            builder.queryName(queryName);
            return builder;
        } catch (IllegalArgumentException e) {
            throw new ParsingException(parser.getTokenLocation(), e.getMessage());
        }
    }

    private static List<String> strings(XContentParser parser) throws IOException {
        List<String> out = new ArrayList<>();
        while (parser.nextToken() != XContentParser.Token.END_ARRAY) {
            out.add(parser.text());
        }
        return out;
    }

    @Override
    protected QueryBuilder doRewrite(QueryRewriteContext context) throws IOException {
        if (filter != null) {
            QueryBuilder rewritten = filter.rewrite(context);
            if (rewritten != filter) {
                return copy(rewritten);
            }
        }
        if (LightRetrieverPlugin.store().cached(model) == null) {
            // Load (and verify) the bundle from the system index before a shard needs it. Rewriteable only runs
            // async actions when the rewrite returned a new object, hence the copy; the next round finds the
            // model cached and returns `this`, which ends the rewrite.
            context.registerAsyncAction((client, listener) -> LightRetrieverPlugin.store().load(client, model,
                ActionListener.wrap(loaded -> listener.onResponse(null), listener::onFailure)));
            return copy(filter);
        }
        return this;
    }

    private LightRetrieverQueryBuilder copy(QueryBuilder newFilter) {
        LightRetrieverQueryBuilder copy = new LightRetrieverQueryBuilder(text, model, k, fusion, newFilter, denseField, sparseField,
            textFields, systems);
        copy.boost(boost);
        copy.queryName(queryName);
        return copy;
    }

    @Override
    protected Query doToQuery(QueryShardContext context) throws IOException {
        LightModel loaded = LightRetrieverPlugin.store().cached(model);
        if (loaded == null) {
            throw new IllegalArgumentException("lightretriever model [" + model + "] is not loaded on this node (was it deleted?)");
        }
        QueryEncoding encoding = LightRetrieverPlugin.encodeStats().time(() -> loaded.encoder().encode(text));
        String resolved = fusion != null ? fusion : loaded.defaultFusion();
        Fusion method = loaded.fusion(resolved, LightModel.ALL_SYSTEMS);
        // as the Python evaluation runs the hybrids: linear runs its weighted systems, learned its model's
        // systems, rrf (and learned without a trained model) all three; `systems` adds to that set
        List<String> needed = "learned".equals(resolved) && !loaded.hasLearned() ? LightModel.ALL_SYSTEMS : method.systems();
        List<String> run = LightModel.ALL_SYSTEMS.stream()
            .filter(s -> needed.contains(s) || (systems != null && systems.contains(s))).toList();
        SubQueries sub = new SubQueries(text, encoding, k, filter, denseField, sparseField, textFields);
        return new ShardFusion(context, loaded, sub, run, method, resolved).run();
    }

    @Override
    protected boolean doEquals(LightRetrieverQueryBuilder other) {
        return text.equals(other.text) && model.equals(other.model) && k == other.k && Objects.equals(fusion, other.fusion)
            && Objects.equals(filter, other.filter) && denseField.equals(other.denseField) && sparseField.equals(other.sparseField)
            && textFields.equals(other.textFields) && systems.equals(other.systems);
    }

    @Override
    protected int doHashCode() {
        return Objects.hash(text, model, k, fusion, filter, denseField, sparseField, textFields, systems);
    }

    @Override
    public String getWriteableName() {
        return NAME;
    }
}
