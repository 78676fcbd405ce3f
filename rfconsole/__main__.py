from rfconsole.cli import main

raise SystemExit(main())
