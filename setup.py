"""Packaging for the commune queue-numbering appliance (`qms`)."""

import re
from pathlib import Path

from setuptools import find_packages, setup

setup(
    name="qms-commune",
    version=re.search(r'VERSION = "(.+)"', Path(__file__).with_name("mqtt_bus").joinpath("version.py").read_text()).group(1),
    description="Queue-numbering appliance for Vietnamese commune public administration service centers",
    long_description=Path(__file__).with_name("README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    python_requires=">=3.11,<3.14",
    packages=find_packages(include=[
        "queue_core*", "hub*", "qms*", "mqtt_bus*", "kiosk*", "queue_display*", "counter*", "devices*", "ui_kit*",
        "web*",
    ]),
    include_package_data=True,
    package_data={"": ["*.kv", "*.json", "*.yaml", "templates/*.html", "static/*.css"]},
    install_requires=[
        "kivy[base]>=2.3,<3",
        "paho-mqtt>=2,<3",
        "python-escpos[serial,qrcode]>=3.1,<4",
        "pyserial>=3.5,<4",
        "qrcode>=7.4,<9",
        "pillow>=10,<12",
        "pydantic>=2.5,<3",
        "ruamel.yaml>=0.18,<0.20",
        "platformdirs>=4,<5",
        "tzdata>=2024.1",
        "matplotlib>=3.7,<4",
        "flask>=3,<4",
        "openpyxl>=3.1,<4",
    ],
    extras_require={
        "test": [
            "pytest>=8,<9",
            "pytest-timeout>=2.3,<3",
            "hypothesis>=6.100,<7",
            "ruff>=0.6",
            "playwright>=1.40,<2",
            "psycopg[binary]>=3.1,<4",
        ],
        "province": ["psycopg[binary]>=3.1,<4"],
    },
    entry_points={"console_scripts": ["qms=qms.cli:main"]},
)
