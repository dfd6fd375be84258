// Real hub processes share two cores with the rest of the suite, and Quartz keeps one scheduler per name in the
// process (the test client's): one test at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
