// Loader tests.
