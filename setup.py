from setuptools import find_packages, setup


def readme():
    with open('README.md', encoding='utf-8') as f:
        return f.read()


def version():
    scope = {}
    with open('mmconvnextv2/version.py', encoding='utf-8') as f:
        exec(f.read(), scope)
    return scope['__version__']


def requirements(path='requirements.txt'):
    with open(path, encoding='utf-8') as f:
        return [line.split('#')[0].strip() for line in f if line.split('#')[0].strip()]


setup(
    name='mmconvnextv2',
    version=version(),
    description='ConvNeXt V2 and FCMAE pretraining for OpenMMLab (mmpretrain, mmdet, mmseg)',
    long_description=readme(),
    long_description_content_type='text/markdown',
    packages=find_packages(include=['mmconvnextv2', 'mmconvnextv2.*']),
    python_requires='>=3.8',
    # torch, torchvision and mmcv (with compiled ops) come first, from `make install`
    install_requires=requirements(),
    license='Apache License 2.0',
)
