"""The machine signature the benchmarks record beside their numbers."""
import torch

from mmseg_pixcon.utils.benchmark_report import cpu_signature

ZEN5 = ('processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 26\nmodel\t\t: 2\n'
        'model name\t: AMD EPYC\nstepping\t: 1\nmicrocode\t: 0x1000065\n\n'
        'processor\t: 1\ncpu family\t: 26\nmodel\t\t: 2\nmodel name\t: AMD EPYC\n')


def test_signature_names_model_family_stepping_and_torch_kernels():
    kernels = torch.backends.cpu.get_cpu_capability()
    assert cpu_signature(ZEN5) == f'AMD EPYC (family 26, model 2, stepping 1; torch {kernels})'


def test_same_model_name_other_family_gives_another_signature():
    zen4 = ZEN5.replace('cpu family\t: 26', 'cpu family\t: 25')
    assert cpu_signature(zen4) != cpu_signature(ZEN5)
    assert 'family 25' in cpu_signature(zen4)


def test_missing_cpuinfo_keeps_the_architecture_and_kernels():
    signature = cpu_signature('')
    assert signature.endswith(f'(torch {torch.backends.cpu.get_cpu_capability()})')
    assert 'family' not in signature
