package org.lightretriever.opensearch.search;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.opensearch.action.search.SearchAction;
import org.opensearch.action.search.SearchRequest;
import org.opensearch.action.support.ActionFilterChain;
import org.opensearch.common.settings.Settings;
import org.opensearch.common.util.concurrent.ThreadContext;
import org.opensearch.core.action.ActionListener;
import org.opensearch.core.action.ActionResponse;
import org.opensearch.core.tasks.TaskId;
import org.opensearch.tasks.Task;

/** The search task is visible to the rewrite while the search runs, and only then; a nested search keeps the outer one. */
class SearchTaskFilterTest {
    @Test
    void exposesTheSearchTaskDuringTheSearchOnly() {
        ThreadContext context = new ThreadContext(Settings.EMPTY);
        SearchTaskFilter filter = new SearchTaskFilter(() -> context, () -> "node-1");
        Task outer = new Task(7, "transport", SearchAction.NAME, "", TaskId.EMPTY_TASK_ID, Map.of());
        Task inner = new Task(8, "transport", SearchAction.NAME, "", TaskId.EMPTY_TASK_ID, Map.of());
        AtomicReference<TaskId> seenOuter = new AtomicReference<>();
        AtomicReference<TaskId> seenInner = new AtomicReference<>();
        ActionFilterChain<SearchRequest, ActionResponse> innerChain = (task, action, request, listener) ->
            seenInner.set(SearchTaskFilter.current(context));
        ActionFilterChain<SearchRequest, ActionResponse> outerChain = (task, action, request, listener) -> {
            seenOuter.set(SearchTaskFilter.current(context));
            filter.apply(inner, SearchAction.NAME, new SearchRequest(), ActionListener.wrap(r -> {}, e -> {}), innerChain);
        };
        filter.apply(outer, SearchAction.NAME, new SearchRequest(), ActionListener.wrap(r -> {}, e -> {}), outerChain);
        assertEquals(new TaskId("node-1", 7), seenOuter.get());
        assertEquals(new TaskId("node-1", 7), seenInner.get()); // the fusion's sub-searches stay children of the search
        assertNull(SearchTaskFilter.current(context)); // nothing leaks into the thread once the search is under way
    }
}
