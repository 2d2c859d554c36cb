"""Depth of field → step size, so a client need not know the formula."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from raild.api.deps import Authed
from raild.api.problems import AUTHED, problem_responses
from raild.stacks import optics

router = APIRouter(prefix="/optics", tags=["optics"], dependencies=[Authed])


class StepAdvice(BaseModel):
    dof_um: float
    step_um: float


@router.get("/step", response_model=StepAdvice, responses=problem_responses(*AUTHED))
async def step(
    magnification: Annotated[
        float,
        Query(
            ge=optics.MIN_MAGNIFICATION,
            le=optics.MAX_MAGNIFICATION,
            allow_inf_nan=False,
            description="lens magnification, e.g. 2 for 2:1",
        ),
    ],
    aperture: Annotated[
        float, Query(gt=0, le=optics.MAX_APERTURE, allow_inf_nan=False, description="nominal f-number")
    ],
    coc_um: Annotated[
        float, Query(gt=0, le=optics.MAX_COC_UM, allow_inf_nan=False, description="circle of confusion")
    ] = optics.DEFAULT_COC_UM,
    overlap: Annotated[
        float, Query(ge=0, lt=1, allow_inf_nan=False, description="fraction of the DOF shared by neighbours")
    ] = optics.DEFAULT_OVERLAP,
) -> StepAdvice:
    dof, step_size = optics.step_um(magnification, aperture, coc_um, overlap)
    return StepAdvice(dof_um=dof, step_um=step_size)
