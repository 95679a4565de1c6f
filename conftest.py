"""The contract suite's options and target selection live in contract_tests/plugin.py:

pytest                                   the mock, in process (no socket)
pytest --base-url https://host           a deployment (or MEIBEL_BASE_URL), with safe defaults
       --api-key KEY                     its key (or MEIBEL_API_KEY); never printed
"""

pytest_plugins = ["contract_tests.plugin"]
