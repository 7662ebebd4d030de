pytest_plugins = ["tests.plugins.db", "tests.plugins.app", "tests.plugins.smtp", "tests.plugins.s3", "tests.plugins.redis", "tests.plugins.chat", "tests.plugins.expo"]
