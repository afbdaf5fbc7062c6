"""srlib: the library behind the course "GAN-based image super-resolution, from first principles to ESRGAN".

The notebooks teach; srlib keeps the code they build so that later lessons import it:
data (srlib.data), degradations (srlib.degrade), metrics (srlib.metrics),
evaluation (srlib.evaluate), figures (srlib.viz) and widgets (srlib.widgets).
"""
from .errors import SrlibError

__version__ = "0.1.0"
__all__ = ["SrlibError", "__version__"]
