"""One module per mechanism of the model. :data:`REGISTRY` registers them: its order is the default schedule's.

Adding a mechanism: write its module (a :class:`Process` with its declarations) and add its class here, or,
outside the package, name it in a scenario's ``plugins`` (docs/extending.md).
"""

from .base import ATTEMPTS, GROUPS, SUCCEEDED, SUCCESSES, Column, InnovationMode, Process
from .demography import Demography
from .economic import EconomicTies
from .frontier import Frontier
from .imitation import Imitation
from .integrated import IntegratedInnovation
from .knowledge import KnowledgeDrift
from .knowledge_ties import KnowledgeTies
from .local import LocalInnovation
from .market import Market
from .mode_choice import ModeChoice
from .obsolescence import Obsolescence
from .patents import Patents
from .pipelines import Pipelines
from .rd_learning import RDLearning
from .social import SocialTies
from .spillover import Spillover

REGISTRY: tuple[type[Process], ...] = (
    Market,
    ModeChoice,
    Imitation,
    LocalInnovation,
    IntegratedInnovation,
    Patents,
    Spillover,
    RDLearning,
    KnowledgeDrift,
    Obsolescence,
    SocialTies,
    EconomicTies,
    KnowledgeTies,
    Pipelines,
    Demography,
    Frontier,
)

__all__ = [cls.__name__ for cls in REGISTRY] + [
    "ATTEMPTS",
    "GROUPS",
    "REGISTRY",
    "SUCCEEDED",
    "SUCCESSES",
    "Column",
    "InnovationMode",
    "Process",
]
