"""`python -m negotiation_pipeline.cli ...`: the same command line as `negotiation-pipeline`."""

import sys

from negotiation_pipeline.cli import main

sys.exit(main())
