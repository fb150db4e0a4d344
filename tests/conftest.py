def pytest_addoption(parser):
    parser.addoption(
        "--sut", choices=("etcd", "cairn"), default=None,
        help="server under test for tests/compat (default: $CAIRN_COMPAT_SUT or cairn); "
             "etcd runs the differential tests etcd against etcd, to check the harness")
