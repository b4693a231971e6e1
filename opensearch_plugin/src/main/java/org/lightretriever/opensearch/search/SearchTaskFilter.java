package org.lightretriever.opensearch.search;

import java.util.function.Supplier;
import org.opensearch.action.ActionRequest;
import org.opensearch.action.search.SearchAction;
import org.opensearch.action.support.ActionFilter;
import org.opensearch.action.support.ActionFilterChain;
import org.opensearch.common.util.concurrent.ThreadContext;
import org.opensearch.core.action.ActionListener;
import org.opensearch.core.action.ActionResponse;
import org.opensearch.core.tasks.TaskId;
import org.opensearch.tasks.Task;

/**
 * Makes the running search task known to the `lightretriever` rewrite on the coordinating node (which sees no task),
 * so that the sub-searches of the global fusion are its child tasks: cancelling the search cancels them.
 * The task id travels as a thread-context transient, which stays on this node and follows the search's async steps.
 */
public final class SearchTaskFilter implements ActionFilter {
    static final String SEARCH_TASK = "lightretriever.search_task";

    private final Supplier<ThreadContext> threadContext;
    private final Supplier<String> localNodeId;

    public SearchTaskFilter(Supplier<ThreadContext> threadContext, Supplier<String> localNodeId) {
        this.threadContext = threadContext;
        this.localNodeId = localNodeId;
    }

    /** The search task this thread works for, or null outside a search (or in a sub-search of one). */
    public static TaskId current(ThreadContext threadContext) {
        return threadContext == null ? null : threadContext.getTransient(SEARCH_TASK);
    }

    @Override
    public int order() {
        return Integer.MAX_VALUE; // after any security filter
    }

    @Override
    public <Request extends ActionRequest, Response extends ActionResponse> void apply(Task task, String action, Request request,
                                                                                    ActionListener<Response> listener,
                                                                                    ActionFilterChain<Request, Response> chain) {
        ThreadContext context = threadContext.get();
        // a search started inside a search (the fusion's own sub-searches) keeps the outer task
        if (!SearchAction.NAME.equals(action) || task == null || context.getTransient(SEARCH_TASK) != null) {
            chain.proceed(task, action, request, listener);
            return;
        }
        try (ThreadContext.StoredContext restore = context.newStoredContext(true)) {
            context.putTransient(SEARCH_TASK, new TaskId(localNodeId.get(), task.getId()));
            chain.proceed(task, action, request, listener);
        }
    }
}
