"""radiomics_aln: classical ultrasound radiomics for axillary lymph-node metastasis.

The public API is re-exported here by pipeline stage; see ``docs/api.md``.
"""

from radiomics_aln._version import __version__

__all__ = ["__version__"]
