from fastapi import APIRouter

router = APIRouter(tags=["visit_requests"])
