from mock_server.cli import main

raise SystemExit(main())
