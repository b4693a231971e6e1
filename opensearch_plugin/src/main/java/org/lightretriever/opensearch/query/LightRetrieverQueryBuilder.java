package org.lightretriever.opensearch.query;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Supplier;
import org.apache.lucene.search.Query;
import org.apache.lucene.util.SetOnce;
import org.lightretriever.opensearch.LightRetrieverPlugin;
import org.lightretriever.opensearch.encode.QueryEncoder;
import org.lightretriever.opensearch.encode.QueryEncoding;
import org.lightretriever.opensearch.fusion.Fusion;
import org.lightretriever.opensearch.fusion.Fusions;
import org.lightretriever.opensearch.registry.LightModel;
import org.lightretriever.opensearch.search.SearchTaskFilter;
import org.opensearch.OpenSearchStatusException;
import org.opensearch.action.search.MultiSearchRequest;
import org.opensearch.action.search.SearchRequest;
import org.opensearch.common.unit.TimeValue;
import org.opensearch.common.xcontent.json.JsonXContent;
import org.opensearch.core.ParseField;
import org.opensearch.core.action.ActionListener;
import org.opensearch.core.common.ParsingException;
import org.opensearch.core.common.bytes.BytesReference;
import org.opensearch.core.common.io.stream.StreamInput;
import org.opensearch.core.common.io.stream.StreamOutput;
import org.opensearch.core.rest.RestStatus;
import org.opensearch.core.tasks.TaskId;
import org.opensearch.core.xcontent.XContentBuilder;
import org.opensearch.core.xcontent.XContentParser;
import org.opensearch.index.query.AbstractQueryBuilder;
import org.opensearch.index.query.QueryBuilder;
import org.opensearch.index.query.QueryCoordinatorContext;
import org.opensearch.index.query.QueryRewriteContext;
import org.opensearch.index.query.QueryShardContext;

/**
 * {"lightretriever": {"query": "text", "model": "name", "k": 100, "fusion": "linear|rrf|learned", "filter": {...},
 * "dense_field": "dense", "sparse_field": "sparse", "text_fields": ["title", "text"], "systems": [...], "scope": "index|shard"}}.
 * The model is loaded (asynchronously, from the system index) during rewrite. Scope `index` (the default): the
 * coordinating node encodes the text, runs each system's sub-search over all shards and fuses globally
 * ({@link GlobalFusion}), and the clause becomes the fused documents ({@link FusedHitsQueryBuilder}). Scope `shard`:
 * each shard encodes, runs the sub-queries on its own documents and fuses them ({@link ShardFusion}).
 */
public final class LightRetrieverQueryBuilder extends AbstractQueryBuilder<LightRetrieverQueryBuilder> {
    public static final String NAME = "lightretriever";
    public static final int MAX_K = 10_000;
    public static final int MAX_FILTER_DEPTH = 100;
    /** Named query on every hit of a query that was too long and searched a prefix of its text. */
    public static final String TRUNCATED = "lightretriever_truncated";
    private static final ParseField QUERY = new ParseField("query");
    private static final ParseField MODEL = new ParseField("model");
    private static final ParseField K = new ParseField("k");
    private static final ParseField FUSION = new ParseField("fusion");
    private static final ParseField FILTER = new ParseField("filter");
    private static final ParseField DENSE_FIELD = new ParseField("dense_field");
    private static final ParseField SPARSE_FIELD = new ParseField("sparse_field");
    private static final ParseField TEXT_FIELDS = new ParseField("text_fields");
    private static final ParseField SYSTEMS = new ParseField("systems");
    private static final ParseField SCOPE = new ParseField("scope");
    public static final String SCOPE_INDEX = "index";
    public static final String SCOPE_SHARD = "shard";

    private final String text;
    private final String model;
    private final int k;
    private final String fusion;
    private final QueryBuilder filter;
    private final String denseField;
    private final String sparseField;
    private final List<String> textFields;
    private final List<String> systems;
    private final String scope;
    // set while the global fusion's sub-searches run (coordinator only; never serialized)
    private final Supplier<FusedHitsQueryBuilder> fused;

    public LightRetrieverQueryBuilder(String text, String model, int k, String fusion, QueryBuilder filter, String denseField,
                                      String sparseField, List<String> textFields, List<String> systems) {
        this(text, model, k, fusion, filter, denseField, sparseField, textFields, systems, SCOPE_INDEX);
    }

    public LightRetrieverQueryBuilder(String text, String model, int k, String fusion, QueryBuilder filter, String denseField,
                                      String sparseField, List<String> textFields, List<String> systems, String scope) {
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
        if (!SCOPE_INDEX.equals(scope) && !SCOPE_SHARD.equals(scope)) {
            throw new IllegalArgumentException("[" + NAME + "] unknown scope [" + scope + "]; choose index (global fusion) or shard");
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
        this.scope = scope;
        this.fused = null;
    }

    /** `template` waiting for its global fusion. */
    private LightRetrieverQueryBuilder(LightRetrieverQueryBuilder template, Supplier<FusedHitsQueryBuilder> fused) {
        this.text = template.text;
        this.model = template.model;
        this.k = template.k;
        this.fusion = template.fusion;
        this.filter = template.filter;
        this.denseField = template.denseField;
        this.sparseField = template.sparseField;
        this.textFields = template.textFields;
        this.systems = template.systems;
        this.scope = template.scope;
        this.fused = fused;
        boost(template.boost);
        queryName(template.queryName);
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
        scope = in.readString();
        fused = null;
    }

    @Override
    protected void doWriteTo(StreamOutput out) throws IOException {
        if (fused != null) {
            throw new IllegalStateException("[" + NAME + "] cannot be sent before its global fusion finished (missing rewriteAndFetch?)");
        }
        out.writeString(text);
        out.writeString(model);
        out.writeVInt(k);
        out.writeOptionalString(fusion);
        out.writeOptionalNamedWriteable(filter);
        out.writeString(denseField);
        out.writeString(sparseField);
        out.writeStringCollection(textFields);
        out.writeOptionalStringCollection(systems);
        out.writeString(scope);
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
        builder.field(SCOPE.getPreferredName(), scope);
        printBoostAndQueryName(builder);
        builder.endObject();
    }

    public static LightRetrieverQueryBuilder fromXContent(XContentParser parser) throws IOException {
        try {
            return parse(parser);
        } catch (IllegalStateException | IllegalArgumentException | IOException e) { // a value of the wrong type: 400, not 500
            throw new ParsingException(parser.getTokenLocation(), "[" + NAME + "] bad value: " + e.getMessage(), e);
        }
    }

    private static LightRetrieverQueryBuilder parse(XContentParser parser) throws IOException {
        String text = null;
        String model = null;
        int k = 100;
        String fusion = null;
        QueryBuilder filter = null;
        String denseField = "dense";
        String sparseField = "sparse";
        List<String> textFields = List.of("title", "text");
        List<String> systems = null;
        String scope = SCOPE_INDEX;
        float boost = DEFAULT_BOOST;
        String queryName = null;
        String current = null;
        XContentParser.Token token;
        while ((token = parser.nextToken()) != XContentParser.Token.END_OBJECT) {
            if (token == XContentParser.Token.FIELD_NAME) {
                current = parser.currentName();
            } else if (token == XContentParser.Token.START_OBJECT && FILTER.match(current, parser.getDeprecationHandler())) {
                filter = parseFilter(parser);
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
                } else if (SCOPE.match(current, parser.getDeprecationHandler())) {
                    scope = parser.text();
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
                textFields, systems, scope);
            if (!Float.isFinite(boost) || boost < 0) {
                throw new IllegalArgumentException("[" + NAME + "] boost must be a finite number >= 0, got " + boost);
            }
            builder.boost(boost);
            builder.queryName(queryName);
            return builder;
        } catch (IllegalArgumentException e) {
            throw new ParsingException(parser.getTokenLocation(), e.getMessage());
        }
    }

    /**
     * The filter clause, refused past {@value #MAX_FILTER_DEPTH} levels of JSON nesting. The query parsers recurse
     * per level, and a filter nested a few thousand levels deep overflows the stack, which stops the whole node;
     * so the object is first copied token by token (no recursion) while its depth is counted.
     */
    private static QueryBuilder parseFilter(XContentParser parser) throws IOException {
        XContentBuilder copy = XContentBuilder.builder(JsonXContent.jsonXContent);
        int depth = 0;
        XContentParser.Token token = parser.currentToken();
        do {
            if (token == XContentParser.Token.START_OBJECT || token == XContentParser.Token.START_ARRAY) {
                if (++depth > MAX_FILTER_DEPTH) {
                    throw new IllegalArgumentException("the filter is nested deeper than " + MAX_FILTER_DEPTH + " levels");
                }
            } else if (token == XContentParser.Token.END_OBJECT || token == XContentParser.Token.END_ARRAY) {
                depth--;
            }
            copy.generator().copyCurrentEvent(parser);
        } while (depth > 0 && (token = parser.nextToken()) != null);
        copy.close();
        try (XContentParser inner = JsonXContent.jsonXContent.createParser(parser.getXContentRegistry(), parser.getDeprecationHandler(),
            BytesReference.toBytes(BytesReference.bytes(copy)))) {
            inner.nextToken();
            return parseInnerQueryBuilder(inner);
        }
    }

    private static List<String> strings(XContentParser parser) throws IOException {
        List<String> out = new ArrayList<>();
        XContentParser.Token token;
        while ((token = parser.nextToken()) != XContentParser.Token.END_ARRAY) {
            if (token != XContentParser.Token.VALUE_STRING) {
                throw new IllegalArgumentException("expected an array of strings, found [" + token + "]");
            }
            out.add(parser.text());
        }
        return out;
    }

    @Override
    protected QueryBuilder doRewrite(QueryRewriteContext context) throws IOException {
        if (fused != null) {
            FusedHitsQueryBuilder result = fused.get();
            return result == null ? this : result;
        }
        if (filter != null) {
            QueryBuilder rewritten = filter.rewrite(context);
            if (rewritten != filter) {
                return copy(rewritten);
            }
        }
        LightModel loaded = LightRetrieverPlugin.store().cached(model);
        if (loaded == null) {
            // Load (and verify) the bundle from the system index before it is needed. Rewriteable only runs
            // async actions when the rewrite returned a new object, hence the copy; the next round finds the
            // model cached.
            context.registerAsyncAction((client, listener) -> LightRetrieverPlugin.store().load(client, model,
                ActionListener.wrap(ignored -> listener.onResponse(null), listener::onFailure)));
            return copy(filter);
        }
        QueryCoordinatorContext coordinator = context.convertToCoordinatorContext();
        if (SCOPE_INDEX.equals(scope) && coordinator != null && coordinator.getSearchRequest() instanceof SearchRequest search) {
            return fuseGlobally(context, search, loaded);
        }
        return this;
    }

    /** Registers the sub-searches over the whole of the search's indices; the next rewrite round returns their fusion. */
    private QueryBuilder fuseGlobally(QueryRewriteContext context, SearchRequest search, LightModel loaded) throws IOException {
        Plan plan = plan(loaded);
        LightRetrieverPlugin.NodeServices node = LightRetrieverPlugin.services();
        if (plan.run.contains("dense") && search.pointInTimeBuilder() == null && node != null) {
            DenseFieldCheck.check(node.clusterService().state(), node.resolver(), search, denseField, model, loaded.dim());
        }
        GlobalFusion global = new GlobalFusion(plan.sub, plan.run, plan.method, plan.description("index"));
        MultiSearchRequest request = global.request(search, remainingTime(search, context), context.getXContentRegistry());
        TaskId searchTask = node == null ? null : SearchTaskFilter.current(node.threadPool().getThreadContext());
        if (searchTask != null) {
            request.setParentTask(searchTask); // cancelling the search cancels its sub-searches
        }
        SetOnce<FusedHitsQueryBuilder> result = new SetOnce<>();
        QueryEncoding encoding = plan.sub.encoding();
        context.registerAsyncAction((client, listener) -> client.multiSearch(request, ActionListener.wrap(response -> {
            FusedHitsQueryBuilder hits = global.fuse(response, encoding.nTokens(), encoding.oovShare(), plan.truncated);
            hits.boost(boost);
            hits.queryName(queryName);
            result.set(hits);
            listener.onResponse(null);
        }, listener::onFailure)));
        return new LightRetrieverQueryBuilder(this, result::get);
    }

    /** What is left of the search's timeout (null: none), counted from the search's start. */
    private static TimeValue remainingTime(SearchRequest search, QueryRewriteContext context) {
        TimeValue timeout = search.source() == null ? null : search.source().timeout();
        if (timeout == null || timeout.millis() < 0) {
            return null;
        }
        long left = timeout.millis() - (System.currentTimeMillis() - context.nowInMillis());
        if (left <= 0) {
            throw new OpenSearchStatusException("[" + NAME + "] the search's timeout [" + timeout + "] passed before the sub-searches of "
                + "the fusion could start", RestStatus.GATEWAY_TIMEOUT);
        }
        return TimeValue.timeValueMillis(left);
    }

    private LightRetrieverQueryBuilder copy(QueryBuilder newFilter) {
        LightRetrieverQueryBuilder copy = new LightRetrieverQueryBuilder(text, model, k, fusion, newFilter, denseField, sparseField,
            textFields, systems, scope);
        copy.boost(boost);
        copy.queryName(queryName);
        return copy;
    }

    /** Encoding, fusion and the systems to run: the same for the global and the per-shard path. */
    private record Plan(SubQueries sub, List<String> run, Fusion method, String modelName, String fusionName, boolean truncated) {
        String description(String scope) {
            return "model=" + modelName + ", fusion=" + fusionName + ", systems=" + run + ", scope=" + scope;
        }
    }

    private Plan plan(LightModel loaded) {
        // a long query is cut once (design.md "Long queries") and every sub-query searches the cut text
        QueryEncoder encoder = loaded.encoder();
        QueryEncoder.Cut[] cut = new QueryEncoder.Cut[1];
        QueryEncoding encoding = LightRetrieverPlugin.encodeStats().time(() -> {
            cut[0] = encoder.cut(text, SubQueries.maxQueryChars(textFields.size()));
            return encoder.encode(cut[0].text(), cut[0].ids());
        });
        String resolved = fusion != null ? fusion : loaded.defaultFusion();
        Fusion method = loaded.fusion(resolved, LightModel.ALL_SYSTEMS);
        // as the Python evaluation runs the hybrids: linear runs its weighted systems, learned its model's
        // systems, rrf (also learned without a trained model: it falls back to rrf) all three; `systems` adds to that set
        List<String> needed = method.systems();
        List<String> run = LightModel.ALL_SYSTEMS.stream()
            .filter(s -> needed.contains(s) || (systems != null && systems.contains(s))).toList();
        SubQueries sub = new SubQueries(cut[0].text(), encoding, k, filter, denseField, sparseField, textFields);
        return new Plan(sub, run, method, loaded.name(), resolved, cut[0].truncated());
    }

    @Override
    protected Query doToQuery(QueryShardContext context) throws IOException {
        if (fused != null) {
            throw new IllegalStateException("[" + NAME + "] reached a shard before its global fusion finished");
        }
        LightModel loaded = LightRetrieverPlugin.store().cached(model);
        if (loaded == null) {
            throw new IllegalArgumentException("lightretriever model [" + model + "] is not loaded on this node (was it deleted?)");
        }
        int shards = context.getIndexSettings().getNumberOfShards();
        if (SCOPE_INDEX.equals(scope) && shards > 1) {
            // only a _search/_msearch rewrites the clause on its coordinating node; other APIs (_explain/{id},
            // _validate, alias filters) evaluate it on each shard, where a per-shard fusion would be silently different
            throw new IllegalArgumentException("[" + NAME + "] global fusion runs on the coordinating node of a search; this request "
                + "evaluates the clause on each shard of index [" + context.index().getName() + "] (" + shards + " shards). Use "
                + "_search, or \"scope\": \"shard\" to accept per-shard fusion");
        }
        Plan plan = plan(loaded);
        Query query = new ShardFusion(context, loaded, plan.sub, plan.run, plan.method, plan.fusionName).run();
        if (plan.truncated) {
            context.addNamedQuery(TRUNCATED, query); // every hit then lists it in matched_queries
        }
        return query;
    }

    @Override
    protected boolean doEquals(LightRetrieverQueryBuilder other) {
        return text.equals(other.text) && model.equals(other.model) && k == other.k && Objects.equals(fusion, other.fusion)
            && Objects.equals(filter, other.filter) && denseField.equals(other.denseField) && sparseField.equals(other.sparseField)
            && textFields.equals(other.textFields) && Objects.equals(systems, other.systems) && scope.equals(other.scope)
            && fused == other.fused;
    }

    @Override
    protected int doHashCode() {
        return Objects.hash(text, model, k, fusion, filter, denseField, sparseField, textFields, systems, scope, fused);
    }

    @Override
    public String getWriteableName() {
        return NAME;
    }
}
