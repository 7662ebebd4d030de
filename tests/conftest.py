pytest_plugins = ["tests.plugins.db"]
