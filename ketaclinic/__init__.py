"""KetaClinic: ketamine and esketamine treatment of depression, end to end."""

__version__ = "0.1.0"
