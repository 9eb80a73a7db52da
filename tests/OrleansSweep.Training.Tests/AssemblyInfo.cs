// libtorch's global RNG is process-wide: a test that seeds it or builds layers outside ModelFactory's lock (module
// constructors draw initial weights from it) would change the weights of a trial built at the same moment by a test
// running in parallel, and the determinism tests (bit-identical resumes, concurrent trials) would see it. Production
// code draws only from its own generators or under ModelFactory's lock; the tests run one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
