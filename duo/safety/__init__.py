"""Anti-abuse library: text normalisation, word and pattern filters, spam, e-mail and IP rules.

Pure functions over the lists shipped in ``duo.data`` (safety.md §2–§9).
"""
