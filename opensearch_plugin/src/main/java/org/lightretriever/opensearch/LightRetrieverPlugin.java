package org.lightretriever.opensearch;

import java.util.Collection;
import java.util.List;
import java.util.function.Supplier;
import org.lightretriever.opensearch.query.LightRetrieverQueryBuilder;
import org.lightretriever.opensearch.registry.ModelStore;
import org.lightretriever.opensearch.registry.RestModelAction;
import org.lightretriever.opensearch.stats.EncodeStats;
import org.lightretriever.opensearch.stats.RestStatsAction;
import org.opensearch.cluster.metadata.IndexNameExpressionResolver;
import org.opensearch.cluster.node.DiscoveryNodes;
import org.opensearch.common.settings.ClusterSettings;
import org.opensearch.common.settings.IndexScopedSettings;
import org.opensearch.common.settings.Settings;
import org.opensearch.common.settings.SettingsFilter;
import org.opensearch.indices.SystemIndexDescriptor;
import org.opensearch.plugins.ActionPlugin;
import org.opensearch.plugins.Plugin;
import org.opensearch.plugins.SearchPlugin;
import org.opensearch.plugins.SystemIndexPlugin;
import org.opensearch.rest.RestController;
import org.opensearch.rest.RestHandler;

/** The `lightretriever` query clause, the model registry and the stats REST API (docs/design.md "Plugin REST"). */
public class LightRetrieverPlugin extends Plugin implements SearchPlugin, ActionPlugin, SystemIndexPlugin {
    // One store per node; the query builder is created by a static parser, hence the static access.
    private static final ModelStore STORE = new ModelStore();
    private static final EncodeStats ENCODE_STATS = new EncodeStats();

    public static ModelStore store() {
        return STORE;
    }

    public static EncodeStats encodeStats() {
        return ENCODE_STATS;
    }

    @Override
    public List<QuerySpec<?>> getQueries() {
        return List.of(new QuerySpec<>(LightRetrieverQueryBuilder.NAME, LightRetrieverQueryBuilder::new, LightRetrieverQueryBuilder::fromXContent));
    }

    @Override
    public List<RestHandler> getRestHandlers(Settings settings, RestController restController, ClusterSettings clusterSettings,
                                             IndexScopedSettings indexScopedSettings, SettingsFilter settingsFilter,
                                             IndexNameExpressionResolver indexNameExpressionResolver, Supplier<DiscoveryNodes> nodesInCluster) {
        return List.of(new RestModelAction(STORE), new RestStatsAction(ENCODE_STATS));
    }

    @Override
    public Collection<SystemIndexDescriptor> getSystemIndexDescriptors(Settings settings) {
        return List.of(new SystemIndexDescriptor(ModelStore.INDEX, "LightRetriever model bundles (manifest, tokenizer, token table, fusion model)"));
    }
}
