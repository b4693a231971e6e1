package org.lightretriever.opensearch;

import java.util.Collection;
import java.util.List;
import java.util.function.Supplier;
import org.lightretriever.opensearch.cluster.NodesAction;
import org.lightretriever.opensearch.query.FusedHitsQueryBuilder;
import org.lightretriever.opensearch.query.LightRetrieverQueryBuilder;
import org.lightretriever.opensearch.query.SystemScoresFetchSubPhase;
import org.lightretriever.opensearch.registry.ModelStore;
import org.lightretriever.opensearch.registry.RestModelAction;
import org.lightretriever.opensearch.search.SearchTaskFilter;
import org.lightretriever.opensearch.stats.EncodeStats;
import org.lightretriever.opensearch.stats.RestStatsAction;
import org.opensearch.action.ActionRequest;
import org.opensearch.action.support.ActionFilter;
import org.opensearch.cluster.metadata.IndexNameExpressionResolver;
import org.opensearch.cluster.node.DiscoveryNodes;
import org.opensearch.cluster.service.ClusterService;
import org.opensearch.common.settings.ClusterSettings;
import org.opensearch.common.settings.IndexScopedSettings;
import org.opensearch.common.settings.Settings;
import org.opensearch.common.settings.SettingsFilter;
import org.opensearch.core.action.ActionResponse;
import org.opensearch.core.common.io.stream.NamedWriteableRegistry;
import org.opensearch.core.xcontent.NamedXContentRegistry;
import org.opensearch.env.Environment;
import org.opensearch.env.NodeEnvironment;
import org.opensearch.indices.SystemIndexDescriptor;
import org.opensearch.plugins.ActionPlugin;
import org.opensearch.plugins.Plugin;
import org.opensearch.plugins.SearchPlugin;
import org.opensearch.plugins.SystemIndexPlugin;
import org.opensearch.repositories.RepositoriesService;
import org.opensearch.rest.RestController;
import org.opensearch.rest.RestHandler;
import org.opensearch.script.ScriptService;
import org.opensearch.search.fetch.FetchSubPhase;
import org.opensearch.threadpool.ThreadPool;
import org.opensearch.transport.client.Client;
import org.opensearch.watcher.ResourceWatcherService;

/** The `lightretriever` query clause, the model registry and the stats REST API (docs/design.md "Plugin REST"). */
public class LightRetrieverPlugin extends Plugin implements SearchPlugin, ActionPlugin, SystemIndexPlugin {
    // One store per node; the query builder is created by a static parser, hence the static access.
    private static final ModelStore STORE = new ModelStore();
    private static final EncodeStats ENCODE_STATS = new EncodeStats();
    private static volatile NodeServices services;

    /** What the coordinator-side rewrite needs from the node (set once the node creates its components). */
    public record NodeServices(ClusterService clusterService, IndexNameExpressionResolver resolver, ThreadPool threadPool) {}

    public static ModelStore store() {
        return STORE;
    }

    public static EncodeStats encodeStats() {
        return ENCODE_STATS;
    }

    /** Null in unit tests, where no node runs. */
    public static NodeServices services() {
        return services;
    }

    @Override
    public Collection<Object> createComponents(Client client, ClusterService clusterService, ThreadPool threadPool,
                                               ResourceWatcherService resourceWatcherService, ScriptService scriptService,
                                               NamedXContentRegistry xContentRegistry, Environment environment, NodeEnvironment nodeEnvironment,
                                               NamedWriteableRegistry namedWriteableRegistry, IndexNameExpressionResolver resolver,
                                               Supplier<RepositoriesService> repositoriesServiceSupplier) {
        services = new NodeServices(clusterService, resolver, threadPool);
        return List.of();
    }

    @Override
    public List<QuerySpec<?>> getQueries() {
        return List.of(
            new QuerySpec<>(LightRetrieverQueryBuilder.NAME, LightRetrieverQueryBuilder::new, LightRetrieverQueryBuilder::fromXContent),
            new QuerySpec<>(FusedHitsQueryBuilder.NAME, FusedHitsQueryBuilder::new, FusedHitsQueryBuilder::fromXContent));
    }

    @Override
    public List<FetchSubPhase> getFetchSubPhases(FetchPhaseConstructionContext context) {
        return List.of(new SystemScoresFetchSubPhase());
    }

    @Override
    public List<ActionHandler<? extends ActionRequest, ? extends ActionResponse>> getActions() {
        return List.of(new ActionHandler<>(NodesAction.INSTANCE, NodesAction.Transport.class));
    }

    @Override
    public List<ActionFilter> getActionFilters() {
        return List.of(new SearchTaskFilter(() -> services.threadPool().getThreadContext(),
            () -> services.clusterService().localNode().getId()));
    }

    @Override
    public List<RestHandler> getRestHandlers(Settings settings, RestController restController, ClusterSettings clusterSettings,
                                             IndexScopedSettings indexScopedSettings, SettingsFilter settingsFilter,
                                             IndexNameExpressionResolver indexNameExpressionResolver, Supplier<DiscoveryNodes> nodesInCluster) {
        return List.of(new RestModelAction(STORE), new RestStatsAction());
    }

    @Override
    public Collection<SystemIndexDescriptor> getSystemIndexDescriptors(Settings settings) {
        return List.of(new SystemIndexDescriptor(ModelStore.INDEX, "LightRetriever model bundles (manifest, tokenizer, token table, fusion model)"));
    }
}
