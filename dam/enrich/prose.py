"""A stock-library style paragraph from the labels: what the footage is, how it looks, how it
was shot, what is heard, then the technical line. Only confident labels are mentioned, so the
text never claims more than the sources found."""

from __future__ import annotations

from dam.encoders.labels import category, class_names
from dam.enrich.model import Label

SURE = 0.5  # confidence a label needs to be stated
SURE_CLIP = 0.2  # zero-shot probabilities spread over a whole vocabulary, so a lower bar
SURE_VISION = 0.3  # ImageNet probabilities split between sibling classes (tabby / tiger cat / Egyptian cat)


def _pick(labels: list[Label], facet: str) -> Label | None:
    found = [lb for lb in labels if lb.facet == facet and lb.confidence >= SURE]
    return max(found, key=lambda lb: lb.confidence) if found else None


def _and(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def seen(labels: list[Label]) -> list[str]:
    """What the vision model is sure it sees: 'a cat (Egyptian cat, tabby)', 'an espresso'."""
    above = {names[0]: category(i) for i, names in enumerate(class_names())}
    classes = [lb for lb in labels if lb.source == "vision" and lb.facet == "content"]
    out = []
    for sub in (lb for lb in labels if lb.source == "vision" and lb.facet == "subject" and lb.confidence >= SURE_VISION):
        kinds = [lb.name for lb in classes if above.get(lb.name) == sub.name and lb.name != sub.name]
        out.append(_a(sub.name) + (f" ({', '.join(kinds)})" if kinds else ""))
    named = {lb.name for lb in labels if lb.source == "vision" and lb.facet == "subject"}
    out += [_a(lb.name) for lb in classes if lb.confidence >= SURE_VISION and above.get(lb.name) not in named]
    return out[:3]


def _a(noun: str) -> str:
    return ("an " if noun[:1].lower() in "aeiou" else "a ") + noun


def describe(labels: list[Label], kind: str, duration: float | None = None) -> str:
    get = lambda f: (lb.name if (lb := _pick(labels, f)) else None)  # noqa: E731
    res, orient = get("resolution"), get("orientation")
    what = " ".join(x for x in (orient if orient and orient != "horizontal" else None,
                                res.upper() if res in ("hd", "sd", "4k", "8k") else res.replace("hd", "HD") if res else None,
                                {"image": "still image", "audio": "audio recording"}.get(kind, "video footage")) if x)
    subjects = [lb.name for lb in labels if lb.source == "clip" and lb.confidence >= SURE_CLIP][:3]
    subjects += seen(labels)
    people = get("people")
    if people and people != "no people":
        subjects.append(f"{people}" if people != "one person" else "a person")
    first = what[0].upper() + what[1:] + (f" of {_and(subjects)}" if subjects else "")
    colours = [lb.name for lb in labels if lb.facet == "colour" and lb.confidence >= 0.25][:2]
    looks = []
    if colours:
        looks.append(f"{_and(colours)} tones dominate the frame" if len(colours) > 1 else
                     f"{colours[0]} tones dominate the frame")
    light, tod = get("light"), get("time of day")
    if light == "low light":
        looks.append("shot in low light" + (" at night" if tod == "night" else ""))
    elif light == "bright":
        looks.append("brightly lit")
    focus = get("focus")
    if focus:
        looks.append("in sharp focus" if focus == "sharp" else "with soft focus")
    sentences = [first + (", " + ", ".join(looks) if looks else "") + "."]
    shot = []
    pace, camera, movement = get("pace"), get("camera"), get("movement")
    if pace:
        shot.append({"single shot": "a single continuous shot", "fast-paced": "fast-paced cutting",
                     "slow-paced": "slow-paced editing", "moderate pace": "a moderate editing pace"}[pace])
    if camera:
        shot.append("a static camera" if camera == "static camera" else "a handheld, moving camera")
    if movement:
        shot.append("movement in frame" if movement == "motion" else "a still scene")
    if shot:
        sentences.append(_and(shot)[0].upper() + _and(shot)[1:] + ".")
    audio = get("audio")
    if audio == "speech":
        words = [lb.name for lb in labels if lb.source == "speech" and lb.facet == "tag"][:4]
        sentences.append("Includes spoken dialogue" + (f" mentioning {_and(words)}" if words else "") + ".")
    elif audio in ("no sound", "no speech"):
        sentences.append("No sound." if audio == "no sound" else "No speech.")
    tech = [x for x in (get("frame rate"), get("codec"), "HDR" if get("dynamic range") == "hdr" else None) if x]
    if duration and kind == "video":
        tech.append(f"{duration:.0f} seconds" if duration < 90 else f"{duration / 60:.1f} minutes")
    if tech:
        sentences.append(", ".join(tech).capitalize() + ".")
    return " ".join(sentences)
