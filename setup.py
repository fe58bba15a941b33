from pathlib import Path

from setuptools import find_packages, setup


def read_requirements(name: str) -> list:
    lines = (Path(__file__).parent / name).read_text().splitlines()
    return [ln.strip() for ln in lines if ln.strip() and not ln.startswith('#')]


setup(
    name='mmseg-pixcon',
    version='0.1.0',
    description='Pixel-wise label-based contrastive learning (Zhao et al., ICCV 2021) '
    'for MMSegmentation 1.x',
    packages=find_packages(include=['mmseg_pixcon', 'mmseg_pixcon.*']),
    python_requires='>=3.8',
    install_requires=read_requirements('requirements.txt'),
    extras_require={'tests': read_requirements('requirements-test.txt')},
)
