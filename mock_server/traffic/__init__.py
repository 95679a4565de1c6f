"""Real traffic: the validating proxy, the check of an answer against the document, recording, and
HAR archives turned into recordings."""
