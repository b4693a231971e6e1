"""Property-based tests of the inputs (issue 15): hostile input gives a result or a clear error, never a crash."""
