import sys

from bench.public import main

sys.exit(main())
