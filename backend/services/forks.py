"""A network's forks, as its owner (a teacher) sees the class: each student's copy with its
name, progress and a small picture of its decision boundary."""

from __future__ import annotations

import unicodedata

from backend.core.experiment import Experiment
from backend.services import costs, views
from backend.services.budgets import Budgets
from backend.services.costs import Shape
from backend.services.errors import NotFound
from backend.services.networks import Entry, NetworkService, created

MAX_NAME_LENGTH = 40
THUMBNAIL_RESOLUTION = 16
MAX_LISTED = 200  # the forks changed last; a class is far smaller


def display_name(raw: str | None) -> str | None:
    """A fork's name as kept: trimmed, None when empty; a ValueError (a 422) with a sentence
    saying what a name may be otherwise."""
    if raw is None:
        return None
    name = raw.strip()
    if not name:
        return None
    if any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co", "Cn") for c in name):
        raise ValueError("a name may hold letters, digits, spaces and punctuation, but no "
                         "control or invisible characters: type it again without them")
    if len(name) > MAX_NAME_LENGTH:
        raise ValueError(f"a name may be at most {MAX_NAME_LENGTH} characters long; this one "
                         f"has {len(name)}: shorten it")
    return name


def make_fork(networks: NetworkService, network_id: str, document: dict, client: str | None,
              parent: str, name: str | None) -> dict:
    """A fork of ``parent`` (its ``document``, exported) as network ``network_id``, made by the
    service that will hold it (NetworkService.on: on the Ray engine, a class's forks spread
    over the hosts instead of crowding the parent's); the answer of a new network."""
    experiment = Experiment.from_dict(document)
    Budgets(networks.settings).check_network(experiment)
    entry, token = networks.add(experiment, client, parent=parent, name=name,
                                network_id=network_id)
    return created(entry, token)


def list_forks(networks: NetworkService, budgets: Budgets, parent: Entry) -> dict:
    """The forks of ``parent``, each with a thumbnail of its output while the thumbnails' work
    fits in one request's budget (later ones come without: ``thumbnail`` null)."""
    left = budgets.settings.max_request_work
    forks = []
    for fork_id in networks.store.forks(parent.id, MAX_LISTED):
        try:
            row, work = networks.on(fork_id, fork_card, left)
        except NotFound:  # deleted since
            continue
        left -= work
        forks.append(row)
    return {"parent": parent.id, "resolution": THUMBNAIL_RESOLUTION, "forks": forks}


def fork_card(networks: NetworkService, fork_id: str, work_left: int) -> tuple[dict, int]:
    """A fork's row, with its thumbnail if that costs at most ``work_left``; and that work."""
    entry = networks.get(fork_id)
    work = costs.grid_work(Shape.of(entry.experiment.net.sizes), THUMBNAIL_RESOLUTION, None)
    draw = work <= work_left
    return networks.read(entry, lambda exp: card(entry, exp, draw)), work if draw else 0


def card(entry: Entry, exp: Experiment, thumbnail: bool) -> dict:
    metrics = views.metrics(exp)
    return {
        "id": entry.id,
        "name": entry.name,
        "created_at": entry.created_at,
        "updated_at": entry.updated_at,
        "status": entry.status,
        "epoch": exp.trainer.epoch,
        "sizes": exp.net.sizes,
        "hidden_neurons": sum(exp.net.sizes[1:-1]),
        "train_loss": metrics.get("train_loss"),
        "test_loss": metrics.get("test_loss"),
        "test_accuracy": metrics.get("test_accuracy"),
        **views.task(exp),
        "thumbnail": (views.boundary(exp, THUMBNAIL_RESOLUTION, False, dtype="uint8")
                      if thumbnail else None),
    }
