import sys

from soundmind.serving.cli import main

sys.exit(main())
