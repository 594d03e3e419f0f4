"""Demo and test data: one row builder (``demo.rows``) that the demo seed, the test
worlds and the benchmark data all use, and the demo's content as data files
(``demo/data/*.json``).

It sits on the persistence layer and is used by the command line, the tests and
the scripts; nothing that answers a request imports it.
"""

from demo.documents import DEMO_CREATED_BY
from demo.people import DEMO_SUBJECT_EMAIL
from demo.seed import DemoSummary, demo_slugs, seed_demo

DEMO_TENANT_SLUGS: tuple[str, ...] = demo_slugs()

__all__ = ["DEMO_CREATED_BY", "DEMO_SUBJECT_EMAIL", "DEMO_TENANT_SLUGS", "DemoSummary", "seed_demo"]
