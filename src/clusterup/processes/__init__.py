"""One module per mechanism of the model; :data:`DEFAULT_PROCESSES` gives the schedule's order."""

from .base import InnovationMode, Process
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
from .pipelines import Pipelines
from .rd_learning import RDLearning
from .social import SocialTies
from .spillover import Spillover

DEFAULT_PROCESSES: tuple[type[Process], ...] = (
    Market,
    ModeChoice,
    Imitation,
    LocalInnovation,
    IntegratedInnovation,
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

__all__ = [cls.__name__ for cls in DEFAULT_PROCESSES] + ["DEFAULT_PROCESSES", "InnovationMode", "Process"]
