import os
import os.path as osp
import shutil

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

# What an installed package carries besides its code, in `mmconvnextv2/.mim/` as OpenMMLab
# packages do: mmengine resolves `_base_ = 'mmconvnextv2::...'` there, mmpretrain's model hub
# and `mim` read model-index.yml there (mmconvnextv2/apis/model_zoo.py).
MIM_FILES = ('configs', 'tools', 'model-index.yml')


class BuildPy(build_py):
    """``build_py`` that also copies :data:`MIM_FILES` into the built package's ``.mim``.

    Only the build directory is written, never the source tree. An editable install builds
    nothing here: the package then reads configs/, tools/ and model-index.yml from the checkout.
    """

    def run(self):
        super().run()
        if self.editable_mode:
            return
        mim_dir = osp.join(self.build_lib, 'mmconvnextv2', '.mim')
        if osp.isdir(mim_dir):  # a reused build directory keeps no deleted config
            shutil.rmtree(mim_dir)
        for name in MIM_FILES:
            target = osp.join(mim_dir, name)
            if osp.isdir(name):
                shutil.copytree(name, target,
                                ignore=shutil.ignore_patterns('__pycache__', '*.pyc'))
            else:
                self.mkpath(mim_dir)
                self.copy_file(name, target)


def ext_modules():
    """The compiled CPU operators (mmconvnextv2/ops/csrc -> ``mmconvnextv2._ext``) and the
    ``build_ext`` that compiles them against the installed torch.

    Optional: they are built where torch is importable at build time (``make install`` passes
    ``--no-build-isolation``) and ``MMCONVNEXTV2_WITH_OPS`` is not ``0``; elsewhere the package
    installs without them and runs its pure-PyTorch paths (``mmconvnextv2.ops.ops_available``).
    """
    if os.environ.get('MMCONVNEXTV2_WITH_OPS', '1') == '0':
        return [], {}
    try:
        from torch.utils.cpp_extension import BuildExtension, CppExtension
    except ImportError:
        return [], {}
    ext = CppExtension(
        'mmconvnextv2._ext', ['mmconvnextv2/ops/csrc/sparse_dwconv.cpp'],
        # OpenMP for at::parallel_for; the kernels pick AVX2+FMA or baseline code at load time
        extra_compile_args=['-O3', '-ffp-contract=fast', '-fopenmp'], extra_link_args=['-fopenmp'])
    return [ext], {'build_ext': BuildExtension}


EXT_MODULES, EXT_CMDCLASS = ext_modules()


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
    ext_modules=EXT_MODULES,
    cmdclass={'build_py': BuildPy, **EXT_CMDCLASS},
    python_requires='>=3.8',
    # torch, torchvision and mmcv (with compiled ops) come first, from `make install`
    install_requires=requirements(),
    license='Apache License 2.0',
    zip_safe=False,
)
