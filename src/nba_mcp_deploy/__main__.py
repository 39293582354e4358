from nba_mcp_deploy.cli import main

raise SystemExit(main())
