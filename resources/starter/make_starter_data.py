"""Generate the project's own starter data sets (sentiment CSVs and NER CoNLL files).

Every sentence, phrase, name and template in this file was written for Transformers
Workbench; nothing is copied from a public data set. The output is deterministic
(fixed seed), so running

    python resources/starter/make_starter_data.py [--output-dir DIR]

reproduces the committed files byte for byte. Licence: Apache-2.0, like the project.

Honesty of the held-out splits: hand-written texts are split 80/20; composed texts use
*different templates* in train and test, and every phrase pool (aspect clauses,
negations, verdicts, NER entity lists) is partitioned so test phrases never occur in
train.
"""

from __future__ import annotations

import argparse
import csv
import random
import re
import sys
from collections import Counter
from pathlib import Path

SEED = 6_2026
HERE = Path(__file__).resolve().parent

DOMAINS = ["film", "restaurant", "product", "app", "hotel", "book"]
TRAIN_PER_CELL = 114  # texts per (domain, label) in train
TEST_PER_CELL = 29  # texts per (domain, label) in test
HAND_TEST_PER_CELL = 5  # of the hand-written texts per (domain, label), this many go to test

# ---------------------------------------------------------------------------------------
# Sentiment building blocks (domain-specific)
# pos / neg: aspect clauses; npos: negated clauses with negative meaning;
# nneg: negated clauses with positive meaning; posv / negv: verdict sentences;
# mild_pos / mild_neg: minor upsides / drawbacks used as the conceded half of a contrast.
# ---------------------------------------------------------------------------------------

BLOCKS = {
    "film": {
        "mild_pos": [
            "the opening scene was promising", "the costumes looked nice",
            "the soundtrack was pleasant enough", "one or two jokes landed", "the lead tries hard",
            "the poster looked great",
        ],
        "mild_neg": [
            "the first twenty minutes were a bit slow", "the cinema seats were uncomfortable",
            "one subplot felt unnecessary", "the runtime is a little long",
            "a couple of jokes missed", "the sound mix was slightly off in places",
        ],
        "be": "was",
        "subj": ["the film", "this movie", "the sequel", "the new thriller", "this documentary",
                 "the remake", "the animated feature", "the director's latest"],
        "noun": ["film", "movie", "watch", "sequel", "documentary"],
        "adjp": ["gripping", "moving", "hilarious", "beautifully shot", "clever", "charming",
                 "stunning", "thrilling", "heartfelt", "entertaining"],
        "adjn": ["tedious", "forgettable", "predictable", "overlong", "clumsy", "boring",
                 "confusing", "lifeless", "pretentious", "messy"],
        "pos": ["the acting was superb",
                "the lead gives a performance you won't forget",
                "the soundtrack stayed in my head for days",
                "every scene looked like a painting",
                "the dialogue felt sharp and natural",
                "the plot kept me guessing until the last minute",
                "the whole cinema burst out laughing more than once",
                "the final twist actually earned its place",
                "the pacing was spot on",
                "the cast had wonderful chemistry",
                "the effects looked seamless",
                "I was moved to tears by the ending"],
        "neg": ["the acting felt wooden",
                "the plot had more holes than a sieve",
                "the dialogue was painfully stiff",
                "the jokes fell flat every single time",
                "the middle hour dragged on forever",
                "the ending made no sense at all",
                "the lead looked bored in every scene",
                "the soundtrack drowned out half the lines",
                "the twist was obvious from the first ten minutes",
                "the editing was choppy and distracting",
                "the characters were cardboard cut-outs",
                "the effects looked cheap and rushed"],
        "npos": ["the story never really grabbed me",
                 "I didn't care about a single character",
                 "the jokes weren't funny, not even once",
                 "it wasn't anywhere near as clever as it thinks",
                 "nobody in the cast seemed to be trying",
                 "the ending didn't pay off at all"],
        "nneg": ["it never drags, not even for a minute",
                 "the long runtime wasn't a problem at all",
                 "I didn't check my phone once",
                 "none of the jokes felt forced",
                 "there wasn't a single wasted scene",
                 "it was not bad at all, actually rather good"],
        "posv": ["I'd happily watch it again.", "Go and see it on the big screen.",
                 "Easily one of the best films of the year.", "Worth every penny of the ticket.",
                 "I'm already recommending it to friends.", "A must-see."],
        "negv": ["I wouldn't recommend it.", "Skip it and wait for something better.",
                 "I nearly walked out.", "Two hours I'll never get back.",
                 "Not worth the ticket price.", "I can't believe the reviews were so kind."],
    },
    "restaurant": {
        "mild_pos": [
            "the decor was pretty", "the bread basket was decent", "the menu sounded interesting",
            "the cocktails were fine", "the location is handy", "the waiter was polite enough",
        ],
        "mild_neg": [
            "parking was a pain", "we had to wait a few minutes for a table",
            "the room was a little noisy", "the menu is quite short", "the chairs were a bit hard",
            "it's slightly pricier than the places nearby",
        ],
        "be": "was",
        "subj": ["the restaurant", "this place", "the new bistro", "the little taqueria",
                 "the sushi bar", "the curry house on Mill Street", "the café by the station",
                 "the steakhouse"],
        "noun": ["restaurant", "place", "meal", "dinner", "lunch spot"],
        "adjp": ["excellent", "wonderful", "delightful", "superb", "fantastic", "lovely",
                 "outstanding", "great value", "cosy", "welcoming"],
        "adjn": ["disappointing", "overpriced", "mediocre", "dreadful", "filthy", "chaotic",
                 "awful", "underwhelming", "noisy", "unwelcoming"],
        "pos": ["the pasta tasted homemade",
                "our waiter was attentive without hovering",
                "the portions were generous",
                "the curry had just the right amount of heat",
                "the bread arrived warm from the oven",
                "the desserts were worth the trip alone",
                "the food came out quickly even though it was packed",
                "the staff remembered us from last time",
                "every dish was beautifully presented",
                "the wine list was thoughtful and fairly priced",
                "the fish was cooked perfectly",
                "the atmosphere was relaxed and friendly"],
        "neg": ["the soup arrived lukewarm",
                "we waited forty minutes for our starters",
                "the steak was tough and overcooked",
                "the waiter ignored us for most of the evening",
                "the bill included items we never ordered",
                "the tables were sticky",
                "the rice was undercooked",
                "the portions were tiny for the price",
                "the music was so loud we couldn't hear each other",
                "the salad was limp and drowned in dressing",
                "the manager was rude when we complained",
                "the chips tasted like they'd been fried in old oil"],
        "npos": ["the food wasn't anything special",
                 "nobody came to check on us",
                 "the dessert didn't live up to the menu description",
                 "the service wasn't what you'd expect at these prices",
                 "I didn't finish my plate, and not because I was full",
                 "the kitchen didn't seem to care"],
        "nneg": ["the bill wasn't as scary as I feared",
                 "nothing on the menu disappointed",
                 "we never felt rushed",
                 "the prices weren't unreasonable for the quality",
                 "there wasn't a single dish I wouldn't order again",
                 "the spicy options weren't overpowering"],
        "posv": ["We'll definitely be back.", "Book a table, you won't regret it.",
                 "Best meal I've had in months.", "I'd recommend it to anyone who loves good food.",
                 "Already planning our next visit.", "Worth every penny."],
        "negv": ["We won't be going back.", "Eat somewhere else.", "I wouldn't recommend it.",
                 "Not worth the money.", "A real shame, because the menu sounded great.",
                 "I left hungry and annoyed."],
    },
    "product": {
        "mild_pos": [
            "delivery was quick", "the colour is lovely", "the box was nicely packaged",
            "it looks nice enough on the shelf", "the price seemed reasonable at first",
            "the first few uses went fine",
        ],
        "mild_neg": [
            "the cord is a little short", "the packaging was a bit excessive",
            "it's slightly heavier than I expected", "the manual is printed in tiny text",
            "it only comes in two colours", "the first setup was a little fiddly",
        ],
        "be": "is",
        "subj": ["this kettle", "the vacuum cleaner", "the blender", "this desk lamp",
                 "this air fryer", "the electric toothbrush", "the coffee grinder",
                 "this cordless drill", "the bluetooth speaker"],
        "noun": ["appliance", "purchase", "product", "gadget", "machine"],
        "adjp": ["sturdy", "well made", "excellent", "reliable", "brilliant", "great value",
                 "easy to use", "beautifully designed", "quiet", "solid"],
        "adjn": ["flimsy", "cheaply made", "useless", "unreliable", "overpriced", "disappointing",
                 "awkward to use", "noisy", "fragile", "poorly designed"],
        "pos": ["it arrived a day early and well packaged",
                "the build quality feels premium",
                "setup took less than five minutes",
                "it cleans up in seconds",
                "the instructions were clear and simple",
                "it still works perfectly after a year of daily use",
                "the materials feel solid and durable",
                "it's much quieter than my old one",
                "the customer support replied within an hour",
                "it does exactly what the description promised",
                "it looks great and takes up hardly any space",
                "the controls are simple and responsive"],
        "neg": ["it broke after two weeks",
                "the handle snapped off the first time I used it",
                "the instructions were impossible to follow",
                "it arrived scratched and missing a part",
                "the plastic feels cheap and thin",
                "the customer service never answered my emails",
                "it overheats after ten minutes",
                "the buttons stopped responding within a month",
                "the return process was a nightmare",
                "it looks nothing like the photos",
                "the cord is ridiculously short",
                "it stopped working the day after the warranty ran out"],
        "npos": ["it doesn't do half of what the box claims",
                 "the build quality isn't what I expected for the price",
                 "I couldn't get it to work properly",
                 "it's not worth even half the price",
                 "the replacement wasn't any better",
                 "nothing about it feels durable"],
        "nneg": ["it's not loud at all",
                 "I haven't had a single problem with it",
                 "it wasn't difficult to set up",
                 "the price isn't bad for what you get",
                 "it doesn't take up much space",
                 "nothing has broken or worn out yet"],
        "posv": ["Highly recommended.", "Best purchase I've made this year.",
                 "I'd buy it again without a second thought.", "Five stars from me.",
                 "I've already bought one for my sister.", "Money well spent."],
        "negv": ["Returned it.", "Save your money.", "Don't waste your money on this.",
                 "One star, and that's generous.", "I want a refund.", "Avoid."],
    },
    "app": {
        "mild_pos": [
            "the icon looks nice", "the onboarding screens are pretty",
            "the colour scheme is pleasant", "it's free to download", "the idea behind it is good",
            "the tutorial was clear",
        ],
        "mild_neg": [
            "the icon is a bit ugly", "a few settings are tucked away",
            "the tutorial takes a while", "it asked for a lot of permissions at first",
            "the font is slightly small", "some translations are a little clumsy",
        ],
        "be": "is",
        "subj": ["this app", "the app", "the new version", "the latest update",
                 "this budgeting app", "the fitness app", "the photo editor",
                 "the language learning app", "the banking app"],
        "noun": ["app", "update", "tool", "download"],
        "adjp": ["fast", "intuitive", "reliable", "smooth", "polished", "brilliant", "simple",
                 "well designed", "handy", "responsive"],
        "adjn": ["buggy", "sluggish", "confusing", "bloated", "unusable", "frustrating",
                 "unstable", "clunky", "annoying", "slow"],
        "pos": ["it loads in under a second",
                "the interface is clean and easy to navigate",
                "syncing between my phone and laptop just works",
                "it hasn't crashed once since I installed it",
                "the dark mode is lovely on the eyes",
                "the latest update fixed every bug I'd reported",
                "notifications are helpful rather than spammy",
                "it barely touches my battery",
                "the offline mode is a lifesaver on the train",
                "the developers actually listen to feedback",
                "everything I need is one tap away",
                "the widgets are genuinely useful"],
        "neg": ["it crashes every time I open the camera",
                "the latest update deleted all my saved data",
                "it drains my battery in a couple of hours",
                "there are ads on every single screen",
                "the login keeps failing",
                "it freezes whenever I switch tabs",
                "the subscription price doubled overnight",
                "syncing loses half my notes",
                "the menus are buried three levels deep",
                "notifications ping me constantly about nothing",
                "it takes ages to load even on wifi",
                "support just sends copy-pasted replies"],
        "npos": ["it doesn't remember my settings",
                 "the search never finds what I'm looking for",
                 "it isn't worth the subscription",
                 "the update didn't fix anything",
                 "I can't even log in half the time",
                 "it doesn't work offline, which is the whole point"],
        "nneg": ["it doesn't nag you with ads",
                 "I haven't had to contact support once",
                 "it isn't a battery hog like the others",
                 "nothing is hidden behind a paywall",
                 "the update didn't break anything",
                 "it's not complicated at all"],
        "posv": ["Five stars.", "Best app of its kind.", "Can't imagine my day without it now.",
                 "Worth every penny of the subscription.", "Highly recommended.",
                 "Download it, seriously."],
        "negv": ["Uninstalled.", "One star.", "Avoid this app.", "Deleting it today.",
                 "I wouldn't recommend it.", "Total waste of storage."],
    },
    "hotel": {
        "mild_pos": [
            "the lobby looked smart", "the receptionist was friendly enough",
            "the building is pretty from the outside", "the coffee in the lobby was decent",
            "the location is convenient", "the toiletries were nice",
        ],
        "mild_neg": [
            "the lift was a little slow", "parking cost extra", "the room was on the small side",
            "the decor is slightly dated", "the walk from the station was uphill",
            "the wifi was a bit patchy",
        ],
        "be": "was",
        "subj": ["the hotel", "our room", "the guesthouse", "this resort", "the B&B",
                 "the hostel", "the boutique hotel", "the seaside inn"],
        "noun": ["stay", "hotel", "room", "getaway", "weekend"],
        "adjp": ["spotless", "comfortable", "charming", "lovely", "excellent", "welcoming",
                 "peaceful", "stylish", "wonderful", "great value"],
        "adjn": ["noisy", "dirty", "cramped", "shabby", "overpriced", "disappointing",
                 "run-down", "tired", "uncomfortable", "chilly"],
        "pos": ["the staff went out of their way to help",
                "the bed was incredibly comfortable",
                "breakfast had something for everyone",
                "the view from the balcony was breathtaking",
                "check-in took two minutes",
                "the room was cleaned every day without fail",
                "the shower had great water pressure",
                "the location was perfect for exploring the old town",
                "reception gave us brilliant tips for dinner",
                "it was quiet enough to sleep with the window open",
                "the pool was warm and never crowded",
                "they let us check out late at no extra cost"],
        "neg": ["the carpet was stained and smelled damp",
                "we could hear every word from the next room",
                "breakfast was stale bread and weak coffee",
                "the air conditioning rattled all night",
                "reception lost our booking",
                "the towels were grey and threadbare",
                "the lift was out of order for our entire stay",
                "there was mould around the bath",
                "the wifi only worked in the lobby",
                "the staff seemed annoyed by every question",
                "the pictures online must have been taken years ago",
                "we were charged twice for the same night"],
        "npos": ["the room didn't look anything like the photos",
                 "nobody at reception seemed to care",
                 "the hot water never lasted more than a few minutes",
                 "it wasn't clean enough to walk around barefoot",
                 "I didn't get a single good night's sleep",
                 "breakfast wasn't worth the extra charge"],
        "nneg": ["the street noise wasn't a problem at all",
                 "nothing was too much trouble for the staff",
                 "we didn't want to leave",
                 "the room wasn't small at all, despite the price",
                 "there wasn't a speck of dust anywhere",
                 "the walk to the beach wasn't far"],
        "posv": ["We'll definitely stay here again.", "I'd recommend it to anyone visiting the area.",
                 "Best hotel stay we've had in years.", "Book it, you won't regret it.",
                 "Already planning our return.", "Perfect for a relaxing weekend."],
        "negv": ["Never again.", "Stay anywhere else.", "I wouldn't recommend it.",
                 "We checked out a day early.", "Not worth the money.", "Avoid this place."],
    },
    "book": {
        "mild_pos": [
            "the cover is beautiful", "the premise sounded intriguing",
            "the first chapter is promising", "a few descriptions are lovely",
            "the research is obviously thorough", "the chapters are nice and short",
        ],
        "mild_neg": [
            "the first chapter is a bit slow", "the font in my edition is tiny",
            "there are a lot of characters to keep track of", "a couple of chapters drag",
            "the title is a bit bland", "the map at the front is hard to read",
        ],
        "be": "was",
        "subj": ["the novel", "this book", "the memoir", "the sequel", "the short story collection",
                 "this thriller", "the biography", "the debut novel"],
        "noun": ["read", "book", "novel", "story"],
        "adjp": ["gripping", "beautifully written", "moving", "clever", "insightful", "charming",
                 "compelling", "haunting", "funny", "unputdownable"],
        "adjn": ["dull", "predictable", "overwritten", "confusing", "tedious", "shallow",
                 "clichéd", "overlong", "forgettable", "plodding"],
        "pos": ["the characters felt like real people",
                "the prose is lyrical without being showy",
                "I finished it in a single weekend",
                "the final chapter gave me chills",
                "the research behind it is impressive",
                "every chapter ends on a hook",
                "the dialogue crackles with wit",
                "the author handles grief with real tenderness",
                "the world-building is rich and believable",
                "it made me laugh out loud on the bus",
                "the mystery kept me up until two in the morning",
                "the translation reads beautifully"],
        "neg": ["the middle section drags terribly",
                "the characters are flat and forgettable",
                "the twist is signposted from page ten",
                "the prose is clumsy and repetitive",
                "half the chapters could have been cut",
                "the ending feels rushed and unearned",
                "the dialogue sounds like nobody I've ever met",
                "the author lectures the reader constantly",
                "the plot relies on one coincidence after another",
                "I kept losing track of who was who",
                "the editing is sloppy, with typos on every other page",
                "the romance subplot is painfully awkward"],
        "npos": ["I never warmed to the narrator",
                 "it didn't live up to the hype",
                 "the mystery wasn't much of a mystery",
                 "I couldn't bring myself to finish it",
                 "none of the characters felt real",
                 "it doesn't go anywhere interesting"],
        "nneg": ["it never loses momentum",
                 "I couldn't put it down",
                 "the length didn't bother me at all",
                 "not a single page felt like filler",
                 "the ending wasn't predictable in the slightest",
                 "it doesn't talk down to the reader"],
        "posv": ["I'll be reading everything this author writes.", "Easily my favourite read this year.",
                 "I've already lent my copy to three friends.", "A must-read.",
                 "I'd recommend it to anyone.", "Five stars, no hesitation."],
        "negv": ["I wouldn't recommend it.", "Back to the library it goes.", "I gave up halfway.",
                 "Not worth your time.", "A real letdown.", "I regret buying it."],
    },
}

# Label-specific small words (predicative intensifiers may be empty; attributive ones are not).
INT = {
    "positive": ["", "", "really ", "truly ", "absolutely ", "genuinely ", "pretty ", "so ",
                 "incredibly "],
    "negative": ["", "", "really ", "utterly ", "painfully ", "pretty ", "a bit ", "rather ",
                 "so ", "incredibly "],
}
INT_ATTR = {
    "positive": ["Really", "Truly", "Absolutely", "Genuinely", "Seriously", "Incredibly"],
    "negative": ["Really", "Utterly", "Painfully", "Seriously", "Incredibly", "Thoroughly"],
}
OPENERS = {
    "positive": ["Honestly,", "Wow,", "Okay so", "Ngl,", "I have to say,", "Pleasantly surprised:",
                 "Well,"],
    "negative": ["Honestly,", "Ugh,", "Okay so", "Ngl,", "I have to say,", "Sadly,", "Well,"],
}
CLOSERS = {
    "positive": [".", ".", "!", "!!", " :)", ". 10/10", " lol"],
    "negative": [".", ".", "!", "...", " :(", ". 0/10", " lol"],
}

# Templates: a string works for both labels; a (positive, negative) tuple gives each its own.
# {A} clause of the text's label, {B} clause of the opposite label (contrast), {N} negated
# clause whose meaning matches the label, {V} verdict of the label, {adj} adjective of the label.
TRAIN_TEMPLATES = [
    "{S} {be} {int}{adj}.",
    "{Int} {adj_attr} {noun}{E}",
    "{A}.",
    "{A}, and {A2}.",
    "{A}. {V}",
    "{S} {be} {adj} and {adj2}. {V}",
    "{B}, but {A}. {V}",
    "{N}. {V}",
    "{O} {A}{E}",
    "{O} {s} {be} {int}{adj}. {A}, {A2}, and {A3}. {V}",
    "{N}, and {A}.",
    "Sure, {B}, but {A}, and {N}.",
    "{V} {A}.",
]
TEST_TEMPLATES = [
    "{Think} {s} {be} {int}{adj}, and {A}.",
    "In short: {adj} and {adj2}{E}",
    "{A}; {A2}. {V}",
    ("{B}. Still, {A}, and that more than made up for it.",
     "{B}. Still, {A}, and that spoiled it for me."),
    "{V} {A}, and {N}.",
    "{Int} {adj_attr}! {A}.",
    "Not gonna lie, {N}{E}",
    "My verdict on {s}? {adj}. {A}.",
    "Even though {B}, {A}. {V}",
    "What {a_adj} {noun}{E}",
    "{O} {A}, {A2} and {N}. {V}",
]

# ---------------------------------------------------------------------------------------
# Fully hand-written sentiment texts (26 per domain and label)
# ---------------------------------------------------------------------------------------

HAND = {
    ("film", "positive"): [
        "Loved every minute of it.",
        "Not bad at all. I went in with low expectations and came out grinning.",
        "Slow start, but the ending won me over.",
        "The kids were glued to the screen and, honestly, so was I.",
        "I'm not usually a fan of musicals, but this one had me tapping my feet the whole way through.",
        "Quietly devastating. The last scene between the two sisters is something I'll be thinking about for weeks.",
        "best movie ive seen in ages, go see it",
        "A smart, funny script and a cast that clearly had a blast making it.",
        "The trailer made it look generic; the film itself is anything but.",
        "Three hours long and I didn't want it to end.",
        "Wasn't sure about the black-and-white photography at first, but it ended up being the film's greatest strength.",
        "Gorgeous to look at and surprisingly tender.",
        "My dad, who falls asleep during every film, stayed awake for this one. That says it all.",
        "The documentary treats its subjects with real respect and never goes for cheap shock value.",
        "Funniest thing I've watched all year, hands down.",
        "It's a horror film that actually understands suspense: no cheap jump scares, just dread that builds and builds.",
        "Solid, well-made entertainment.",
        "The sequel somehow improves on the original in every way.",
        "Low budget, big heart.",
        "I laughed, I cried, I bought the soundtrack on the way home.",
        "The first act is a bit muddled, yet by the end everything clicks into place beautifully.",
        "Terrific, start to finish.",
        "A rare blockbuster that respects its audience's intelligence.",
        "okay the hype is real, this one's a keeper",
        "Even the small supporting roles are played with so much care that the whole town in the film feels alive.",
        "I went in expecting a standard superhero film and got something much stranger and better: a sad, funny "
        "story about a middle-aged man learning to talk to his daughter again, with the occasional explosion "
        "thrown in. The final twenty minutes are the best I've seen all year.",
    ],
    ("film", "negative"): [
        "I wanted to like it, I really did.",
        "Good acting but a dull plot.",
        "Beautiful costumes can't rescue a script this lazy.",
        "Fell asleep twice. Not a good sign.",
        "The first half is promising, but it completely falls apart in the last forty minutes.",
        "So much noise, so little story.",
        "I wouldn't recommend it, even for a rainy Sunday.",
        "The trailer showed all the best bits, and there weren't many of those.",
        "honestly a snoozefest",
        "It tries to be a comedy, a thriller and a love story at once, and it fails at all three.",
        "Great premise, completely wasted.",
        "Nothing in it surprised me.",
        "The director clearly loves long silent shots of fields; I did not.",
        "Impressive visuals, but I couldn't tell you a single thing that happened afterwards.",
        "Overlong, overstuffed and oddly joyless.",
        "The sequel nobody asked for, and it shows.",
        "My friends insisted it was a masterpiece. It isn't.",
        "Half the audience left before the credits, and I don't blame them.",
        "The lead actor does his best with a character who makes no sense from one scene to the next.",
        "Not my cup of tea at all.",
        "Loud, dumb and somehow still boring.",
        "There's a decent forty-minute film buried somewhere inside this two-and-a-half-hour slog.",
        "The documentary raises important questions and then never bothers to answer any of them.",
        "meh. forgot about it by the time I got home",
        "Every character makes the most stupid decision possible, purely so the plot can keep moving.",
        "On paper it has everything going for it, with a great director, a cast full of people I love and a "
        "story based on a brilliant novel, but somewhere along the way all the life was squeezed out of it, and "
        "what's left is two hours of beautiful, empty pictures.",
    ],
    ("restaurant", "positive"): [
        "The best ramen I've had outside of Japan.",
        "Tiny place, huge flavours.",
        "We turned up without a booking on a Saturday and they still found us a table with a smile.",
        "Not cheap, but every bite was worth it.",
        "The service was a little slow, but the food more than made up for it.",
        "Fresh, simple and delicious.",
        "I'm still dreaming about the lemon tart.",
        "My partner is vegan and for once she had more choice than I did.",
        "soooo good, the garlic bread alone is worth the trip",
        "Lovely family-run spot where the owner comes round to chat with every table.",
        "Didn't expect much from a café in a petrol station, but the breakfast was fantastic.",
        "The chef clearly cares about seasonal ingredients, and you can taste it.",
        "Perfect for a quick lunch.",
        "Our kids are fussy eaters and they cleaned their plates.",
        "Cosy room, friendly staff and a cheese board I'd cross town for.",
        "The menu is short, which is always a good sign, and everything on it is done well.",
        "It was loud and a bit cramped, yet we had one of the best evenings out in ages.",
        "Proper home cooking at honest prices.",
        "The dumplings were juicy, the broth was rich, and the bill was pleasantly small.",
        "Still my favourite pizza in town after ten years.",
        "Can't fault it.",
        "They accommodated my nut allergy without any fuss and even made me a special dessert.",
        "would 100% go back",
        "An unassuming little place that quietly serves some of the best seafood on the coast.",
        "Spot on, every time.",
        "We came for my grandmother's ninetieth birthday, a table of fourteen with three high chairs and at least "
        "four dietary requirements, and the staff handled all of it calmly and cheerfully. The food was excellent, "
        "and Gran wants to go back next year.",
    ],
    ("restaurant", "negative"): [
        "Pretty room, shame about the food.",
        "The burger was cold and the fries were soggy.",
        "We waited an hour, and then they told us the kitchen had run out of the main we'd ordered.",
        "Way too expensive for what you get.",
        "Lovely staff, but the food was bland from start to finish.",
        "I wouldn't recommend it to anyone who actually enjoys eating.",
        "Found a hair in my risotto. The waiter just shrugged.",
        "Not the worst meal I've had, but nowhere near worth the price.",
        "food poisoning. enough said.",
        "The portions were so small I stopped for chips on the way home.",
        "Everything tasted like it came out of a microwave.",
        "The booking system lost our reservation and nobody apologised.",
        "Massively overhyped, sadly.",
        "They charged us for bottled water we never asked for and refused to take it off the bill.",
        "The view is stunning; unfortunately, you can't eat the view.",
        "Greasy, salty and somehow still tasteless.",
        "Our waiter was lovely, but he couldn't make up for a kitchen that clearly didn't care.",
        "It used to be great. New owners, new menu, and not in a good way.",
        "The curry had no heat and no flavour, just a lot of oil.",
        "We were rushed out of our table after barely an hour so they could seat the next booking.",
        "Never, ever again.",
        "ordered the special, regretted it instantly",
        "The dining room was freezing and the food arrived in random order, so we never actually ate together.",
        "Nice cocktails, terrible dinner.",
        "Don't be fooled by the queue outside.",
        "The menu reads beautifully and the room is gorgeous, but our starters arrived after fifty minutes, the "
        "lamb was raw in the middle, the replacement was burnt, and when we mentioned it politely the waiter told "
        "us that was how the chef liked it.",
    ],
    ("product", "positive"): [
        "Does exactly what it says on the box.",
        "Cheap, cheerful and surprisingly well built.",
        "I was sceptical about the price, but after six months of daily use I can say it was worth it.",
        "Not the prettiest gadget, but it works brilliantly.",
        "My old kettle took ages; this one boils in about a minute.",
        "Arrived quickly, easy to assemble, and it feels solid.",
        "honestly the best thing I bought this year",
        "The vacuum picks up dog hair that my old one just pushed around.",
        "No complaints whatsoever.",
        "The cordless drill has plenty of power and the battery lasts a whole afternoon of DIY.",
        "It's a bit heavier than I expected, but that's because it's built to last.",
        "The speaker is tiny and still fills the whole living room with clear sound.",
        "Quiet, fast and easy to clean.",
        "I've had it for two years and it still looks brand new.",
        "When the lid cracked, the company sent a replacement within three days, no questions asked.",
        "Simple design, zero fuss.",
        "Wish I'd bought one sooner.",
        "The air fryer has completely changed how we cook on weeknights.",
        "Great little lamp: warm light, sturdy base, and the dimmer works smoothly.",
        "Would happily buy again.",
        "Better than the branded version that costs twice as much.",
        "The toothbrush's timer is a small thing, but it really does make a difference.",
        "A bit fiddly to set up the first time, yet once it's running it's flawless.",
        "five stars, no notes",
        "Exactly what I needed.",
        "I've gone through three cheap vacuum cleaners in five years, so I finally spent a bit more on this one, "
        "and it's been worth it: it handles carpets, hard floors and an enormous amount of cat hair without losing "
        "suction, and the battery easily lasts through the whole flat.",
    ],
    ("product", "negative"): [
        "Stopped working after a week.",
        "Looks great, feels cheap.",
        "The blender leaks from the base every single time, no matter how tight I screw it.",
        "Not worth the money.",
        "It's powerful, but it's so loud the neighbours complained.",
        "The charger died within a month and a replacement costs almost as much as the device.",
        "Returned it the same day.",
        "The photos make it look much bigger than it actually is.",
        "dont buy this",
        "Two of the screws were missing and the instructions were for a different model.",
        "The lamp flickers constantly, which gave me a headache within an hour.",
        "Customer service kept sending me the same useless troubleshooting link.",
        "Nice idea, poor execution.",
        "The coffee grinder produces anything but an even grind, so every cup tastes different.",
        "I expected far better from such a well-known brand.",
        "Smells of burning plastic every time it's switched on.",
        "The speaker sounds tinny even at low volume.",
        "It works, technically, but everything about it is awkward.",
        "Flimsy, cheap and pointless.",
        "The paint started peeling off after the first wash.",
        "I wouldn't recommend it to anyone.",
        "Solid motor, terrible design: the jug is impossible to clean properly.",
        "Broke on the first use. Refund requested.",
        "complete waste of money tbh",
        "For this price I expected something that would last longer than a summer.",
        "The first one arrived with a cracked lid, the replacement stopped heating after ten days, and the third "
        "is already making a strange clicking sound. Each time I've had to spend an hour on the phone to customer "
        "support, so whatever I saved on the price has been paid back in frustration.",
    ],
    ("app", "positive"): [
        "Finally, a to-do app that doesn't get in the way.",
        "Clean, fast, no ads.",
        "The setup took a while, but now it saves me hours every week.",
        "Not a single crash in six months.",
        "The free version is so good I upgraded just to support the developers.",
        "love love love this app",
        "It replaced three other apps on my phone.",
        "The budgeting charts finally made me understand where my money goes.",
        "Works perfectly offline, which is exactly what I needed for travelling.",
        "Quick to learn and genuinely fun to use.",
        "I was worried the redesign would ruin it, but it's actually better than before.",
        "Support answered my question within ten minutes on a Sunday.",
        "The language lessons are short enough to fit into a coffee break and somehow they stick.",
        "Does one thing and does it really well.",
        "Runs smoothly even on my five-year-old phone.",
        "Simply brilliant, thank you.",
        "The new sleep tracker feature is surprisingly accurate.",
        "It asks for very few permissions, which I really appreciate.",
        "A couple of menus are a bit hidden, but overall it's the most useful app I own.",
        "Great app, great team behind it.",
        "Backups are automatic and restoring everything to my new phone took two minutes.",
        "10/10 would download again",
        "Easy to share lists with my family, and everything syncs instantly.",
        "No nonsense, no clutter, just works.",
        "I rarely leave reviews, but this one deserves it.",
        "I've tried just about every habit tracker out there and always gave up after a week, but this one "
        "finally stuck. It's simple, the reminders are gentle rather than naggy, and after three months I'm still "
        "opening it every single morning.",
    ],
    ("app", "negative"): [
        "Crashes constantly, every day.",
        "The update broke everything.",
        "Nice design, shame it logs me out every other day.",
        "I've been charged twice for the subscription and nobody replies to my emails.",
        "It used to be simple. Now it's stuffed with features nobody asked for.",
        "Not worth the download.",
        "uninstalled after 5 mins",
        "Every time I try to save a photo, it freezes.",
        "The free trial quietly turned into a yearly subscription without any warning.",
        "Half the buttons don't do anything on tablets.",
        "So many pop-ups that I can barely use it.",
        "The step counter says I walked twelve kilometres while I was sitting at my desk.",
        "The interface is pretty, but finding anything is a nightmare.",
        "Drains my battery faster than any game.",
        "Constant notifications begging me to rate it. Here's my rating.",
        "It won't even open since the last update.",
        "I wouldn't recommend it until they fix the syncing.",
        "Lost a month of notes. Unforgivable.",
        "Too slow to be useful.",
        "The dark mode is lovely, but it doesn't make up for an app that forgets my settings every time.",
        "why does a calculator app need my location??",
        "Clunky, confusing and full of ads.",
        "Support told me to reinstall it. I did. Nothing changed.",
        "The translations in the language app are often just wrong.",
        "Avoid at all costs.",
        "After the latest update the app takes almost a minute to open, the search has stopped finding older "
        "messages, and the setting to turn off autoplay videos has simply disappeared. I've paid for it for four "
        "years, and this is the first time I've looked for an alternative.",
    ],
    ("hotel", "positive"): [
        "Spotless room and the comfiest bed I've ever slept in.",
        "The staff couldn't do enough for us.",
        "It's a bit far from the centre, but the free shuttle made that a non-issue.",
        "Not fancy, but clean, quiet and great value.",
        "We arrived at midnight soaking wet, and the night porter made us hot chocolate.",
        "Breakfast was a real feast.",
        "loved our stay, the rooftop bar is amazing",
        "The room was smaller than expected, yet it was so well designed that we never felt cramped.",
        "Perfect location: two minutes from the station and right by the river.",
        "They upgraded us to a sea-view room for our anniversary without us even asking.",
        "Quiet, comfortable and friendly.",
        "Best night's sleep I've had in months.",
        "The hostel felt more like a home than a budget stay, with a lovely shared kitchen.",
        "The decor is a bit dated, but everything was spotless and the staff were wonderful.",
        "Would stay again in a heartbeat.",
        "Our kids loved the pool and we loved the peace and quiet in the garden.",
        "Everything just worked: fast wifi, hot showers, comfy beds.",
        "Check-in was effortless.",
        "The owners of the B&B gave us a hand-drawn map of their favourite walks.",
        "Great value for such a central spot.",
        "It rained all weekend and we didn't mind one bit, because the lounge and the library were so cosy.",
        "Faultless in every way.",
        "the breakfast buffet alone is worth it",
        "Old building, modern comforts, warm welcome.",
        "We've stayed in plenty of hotels in this city, and this one is now our first choice.",
        "Our flight was cancelled and we turned up two days late, tired and grumpy, expecting to lose the booking. "
        "Instead, the manager had held the room for us, moved our spa appointments, and left a bottle of wine in "
        "the room with a note. Small hotel, enormous kindness.",
    ],
    ("hotel", "negative"): [
        "Lovely lobby, grim rooms.",
        "The bathroom hadn't been cleaned before we arrived.",
        "We booked a double and were given two single beds pushed together.",
        "Great location, but the noise from the bar downstairs went on until four in the morning.",
        "Not worth half the price.",
        "The heating didn't work and we were offered one extra blanket.",
        "never staying here again",
        "Staff at reception were friendly, but that doesn't make up for a room that smelled of smoke.",
        "Cockroach in the bathroom. Nope.",
        "The photos online are clearly from before the place fell apart.",
        "Paper-thin walls everywhere.",
        "Breakfast finished at eight thirty, and by eight there was nothing left.",
        "The pool was closed for the whole week with no warning on the website.",
        "They tried to charge us a 'resort fee' that wasn't mentioned anywhere when we booked.",
        "Tired, overpriced and understaffed.",
        "I wouldn't recommend it, even for a single night.",
        "The view was amazing; pity about everything else.",
        "Our room overlooked the bins.",
        "We waited ninety minutes for a room that was supposed to be ready at three.",
        "Uncomfortable beds and a shower that switched between freezing and scalding.",
        "avoid avoid avoid",
        "The manager blamed us for a lamp that was broken when we arrived.",
        "Far too expensive for a room with a stained carpet and a broken kettle.",
        "Dreadful, just dreadful.",
        "Beautiful old building run by people who clearly don't want guests.",
        "We chose this hotel because the website promised a quiet retreat with a spa and sea views. The spa was "
        "closed for renovation, the sea view turned out to be a car park with a distant grey strip of water, and "
        "a wedding party kept the whole floor awake until three.",
    ],
    ("book", "positive"): [
        "Couldn't put it down.",
        "A gentle, funny novel that made my week better.",
        "The first fifty pages are slow, but stick with it: the payoff is enormous.",
        "Not an easy read, but an important one, and beautifully written.",
        "I've read it three times and I still find new details.",
        "Heartbreaking and hopeful in equal measure.",
        "stayed up way too late finishing this, no regrets",
        "The memoir is honest without ever feeling self-pitying.",
        "Each story in the collection is tiny, but they add up to something huge.",
        "I don't usually read fantasy, and I loved this.",
        "The author makes complicated history feel like a thriller.",
        "Sharp, witty and surprisingly moving.",
        "A perfect holiday read.",
        "The ending made me gasp out loud on a train full of strangers.",
        "Every character, even the minor ones, has a voice of their own.",
        "The cookbook's recipes actually work, and the stories between them are lovely.",
        "It's long, yes, but I wouldn't cut a single page.",
        "My book club couldn't stop talking about it.",
        "Clever, tender and beautifully paced.",
        "I bought a copy for my mum and she finished it in two days.",
        "The translation reads as if it were written in English.",
        "An absolutely wonderful book.",
        "Dense in places, yet endlessly rewarding.",
        "this book lives in my head rent free",
        "A debut that reads like the work of someone who has been writing for decades.",
        "I picked this up in an airport expecting a light thriller to pass the flight, and ended up missing my "
        "connection because I refused to stop reading. What really got me was how much I came to care about the "
        "retired schoolteacher at its centre.",
    ],
    ("book", "negative"): [
        "Couldn't get into it at all.",
        "The writing is lovely, but nothing happens for four hundred pages.",
        "Gave up after three chapters.",
        "Predictable from start to finish.",
        "The twist on the back cover is the only interesting thing in the whole book.",
        "Not a patch on her earlier novels.",
        "so boring i fell asleep reading it, twice",
        "The detective is supposed to be brilliant, yet he misses clues a child would spot.",
        "Interesting subject, dull book.",
        "I wouldn't recommend it to anyone who's read a good thriller.",
        "Every chapter ends with a cliffhanger that the next chapter immediately ignores.",
        "Far too long for what it says.",
        "The audiobook narrator is great; sadly, the book isn't.",
        "The memoir reads more like a list of famous people the author once met.",
        "Pretentious and hollow.",
        "It's been compared to the classics, which does the classics a disservice.",
        "The first half is promising, then the plot collapses under its own weight.",
        "Clichés on every page.",
        "The recipes in this cookbook simply don't work as written.",
        "I kept waiting for it to get better. It didn't.",
        "Beautiful cover, shame about the inside.",
        "overhyped imo, sorry",
        "None of the characters felt like people; they were all just mouthpieces for the author's opinions.",
        "Tedious beyond words.",
        "The ending is so abrupt that I checked whether pages were missing from my copy.",
        "It's clear the author did a huge amount of research, and that's the problem: every few pages the story "
        "stops dead so we can be told how a printing press worked or what people ate for breakfast, and by the "
        "halfway point I'd stopped caring about anyone in it.",
    ],
}


def _split_pool(items: list, split: str) -> list:
    """Every third item (index 2, 5, 8, ...) is reserved for test; the rest are train-only."""
    return [x for i, x in enumerate(items) if (i % 3 == 2) == (split == "test")]


def _fix_caps(text: str) -> str:
    text = text[0].upper() + text[1:]
    return re.sub(r"([.!?]\s+)([a-z])", lambda m: m.group(1) + m.group(2).upper(), text)


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


def _article(word: str) -> str:
    return ("an " if word[0] in "aeiou" else "a ") + word


def _fill(template, label: str, domain: str, split: str, rng: random.Random) -> str:
    b = BLOCKS[domain]
    lab = "pos" if label == "positive" else "neg"
    oth = "neg" if lab == "pos" else "pos"
    if isinstance(template, tuple):
        template = template[0] if label == "positive" else template[1]
    clauses = _split_pool(b[lab], split)
    a1, a2, a3 = rng.sample(clauses, 3)
    adjs = b["adjp" if lab == "pos" else "adjn"]
    adj1, adj2 = rng.sample(adjs, 2)
    attr = [a for a in adjs if " to " not in a]
    subj = rng.choice(b["subj"])
    fields = {
        "S": subj, "s": subj, "be": b["be"],
        "Think": "I thought" if b["be"] == "was" else "I think",
        "int": rng.choice(INT[label]), "Int": rng.choice(INT_ATTR[label]),
        "adj": adj1, "adj2": adj2, "adj_attr": rng.choice(attr),
        "a_adj": _article(rng.choice(attr)),
        "noun": rng.choice(b["noun"]),
        "A": a1, "A2": a2, "A3": a3,
        # contrasts pit a *minor* point of the other polarity against the text's real verdict
        "B": rng.choice(_split_pool(b["mild_" + oth], split)),
        "N": rng.choice(_split_pool(b["nneg" if lab == "pos" else "npos"], split)),
        "V": rng.choice(_split_pool(b[lab + "v"], split)),
        "O": rng.choice(OPENERS[label]), "E": rng.choice(CLOSERS[label]),
    }
    return _fix_caps(template.format(**fields))


def make_sentiment(rng: random.Random) -> dict[str, list[tuple[str, str, str]]]:
    out: dict[str, list[tuple[str, str, str]]] = {"train": [], "test": []}
    seen: set[str] = set()
    for domain in DOMAINS:
        for label in ("positive", "negative"):
            hand = list(HAND[(domain, label)])
            rng.shuffle(hand)
            parts = {"test": hand[:HAND_TEST_PER_CELL], "train": hand[HAND_TEST_PER_CELL:]}
            for split, target, templates in (("train", TRAIN_PER_CELL, TRAIN_TEMPLATES),
                                             ("test", TEST_PER_CELL, TEST_TEMPLATES)):
                rows = []
                for text in parts[split]:
                    k = _key(text)
                    if k in seen:
                        raise ValueError(f"duplicate hand-written text: {text!r}")
                    seen.add(k)
                    rows.append((text, label, domain))
                i = 0
                while len(rows) < target:
                    template = templates[i % len(templates)]
                    i += 1
                    if i > 50 * target:
                        raise RuntimeError(f"cannot fill {domain}/{label}/{split}")
                    for _ in range(30):
                        text = _fill(template, label, domain, split, rng)
                        k = _key(text)
                        if k not in seen:
                            seen.add(k)
                            rows.append((text, label, domain))
                            break
                out[split].extend(rows)
    for split in out:
        rng.shuffle(out[split])
    return out


# ---------------------------------------------------------------------------------------
# NER building blocks (invented people, organisations, events, products and works;
# real places and nationalities/languages as plain facts)
# ---------------------------------------------------------------------------------------

FIRST = ["Amara", "Tomasz", "Ingrid", "Kenji", "Lucia", "Rafael", "Priya", "Oskar", "Fatima",
         "Elena", "Diego", "Mei", "Jonas", "Aisha", "Niall", "Sofia", "Mateo", "Yuki", "Hannah",
         "Kwame", "Leila", "Pavel", "Greta", "Arjun", "Camille", "Tobias", "Nadia", "Emeka",
         "Signe", "Marco", "Ruth", "Idris"]
LAST = ["Okafor", "Lindqvist", "Moreau", "Brennan", "Takahashi", "Silva", "Kowalski", "Haddad",
        "Petrov", "Mensah", "Varga", "Castellano", "Dunmore", "Iqbal", "Nakamura", "Ferreira",
        "Holm", "Adeyemi", "Rossi", "Whitlock", "Van der Berg", "O'Connell", "Achterberg", "Quispe"]
ORGS = ["Brightwater Analytics", "Norland Freight", "Kestrel Bank", "Bluefin Studios", "Harrow & Vale",
        "Copperleaf Foods", "Meridian Health Trust", "Orbis Telecom", "Sunvale University",
        "Tallis Motors", "Quillstone Press", "Pinecrest Hospital", "Northgate Insurance", "Lumen Labs",
        "Saltmarsh Brewery", "Vantage Air", "Zentrix", "Novalink", "Helixa", "Greenhollow Council",
        "Marlowe Robotics", "Eastbank Energy", "Fernside Academy", "Cobalt Line Shipping"]
CLUBS = ["Redmarsh Rovers", "Ironbridge Athletic", "Port Ellis United", "Westmoor City",
         "Ashcombe Town", "Kilbride Wanderers", "Harbourside FC", "Elmstead Albion", "Saltby Rangers"]
LOCS = ["Lisbon", "Nairobi", "Oslo", "Osaka", "Toronto", "Lima", "Kraków", "Cape Town", "New Zealand",
        "Buenos Aires", "Ghana", "Vietnam", "Hamburg", "Brazil", "Rio de Janeiro", "Scotland", "Texas",
        "Ho Chi Minh City", "San Francisco", "Marseille", "Denmark", "Chile", "Manchester", "Seoul",
        "Morocco", "Adelaide", "Hanoi", "Valencia", "Kyoto", "Accra", "Quebec City", "Tallinn",
        "Mexico City", "Iceland", "Bavaria", "Kuala Lumpur"]
NATS = ["Portuguese", "Kenyan", "Norwegian", "Japanese", "Canadian", "Peruvian", "Polish", "Brazilian",
        "Vietnamese", "German", "Ghanaian", "Chilean", "Korean", "Scottish", "Moroccan", "Australian",
        "Mexican", "Icelandic"]
LANGS = ["Spanish", "Swahili", "Mandarin", "Finnish", "Arabic", "Portuguese", "Korean", "Hindi",
         "Dutch", "Polish", "Turkish", "Icelandic"]
EVENTS = ["Harbour Lights Festival", "Northern Tech Summit", "Riverside Marathon", "Autumn Book Fair",
          "Coastal Film Week", "Summer Robotics Cup", "Grand Valley Cycle Race",
          "World Pastry Championship", "Midwinter Jazz Weekend", "Open Data Forum",
          "Lakeside Sound Festival", "Highland Games Gala"]
PRODS = ["Aurora X2", "Pixelnote 5", "Tundra 300", "Skylark Pro", "Vela Mini", "Corvo S9", "Brisa 2",
         "Quanta One", "Helio 7", "Nimbus Go"]
WORKS = ["The Glass Orchard", "Salt and Iron", "Winter Lanterns", "A Map of Small Rivers",
         "The Last Ferry", "Night Market", "Paper Lions", "The Quiet Engine", "Seven Bridges Home",
         "Small Hours", "The Cartographer's Daughter", "Under the Copper Sky"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December"]

NER_TRAIN_TEMPLATES = [
    "{PER} joined {ORG} as a data engineer in {MONTH} .",
    "{ORG} has opened a new office in {LOC} .",
    "{FN} flew from {LOC} to {LOC2} on {DAY} morning .",
    "The {NAT} delegation arrived in {LOC} for the {EVENT} .",
    "According to {PER} , sales of the {PROD} doubled last year .",
    "{LOC} will host the {EVENT} next {MONTH} .",
    "{PER} , a spokesperson for {ORG} , declined to comment .",
    "Have you read {WORK} by {PER} ?",
    "{ORG} announced that it would cut {NUM} jobs in {LOC} .",
    "My neighbour {FN} speaks {LANG} and {LANG2} fluently .",
    "The {PROD} goes on sale in {LOC} on {DAY} .",
    "{LN} scored twice as {CLUB} beat {CLUB2} on {DAY} .",
    "Tickets for the {EVENT} sold out within an hour .",
    "{PER} grew up in {LOC} before moving to {LOC2} to study .",
    "A {NAT} start-up called {ORG} is hiring {LANG} speakers .",
    "{WORK} , the new novel by {PER} , is set in {LOC} .",
    "Dr {LN} presented the findings at the {EVENT} in {LOC} .",
    "We met {FN} and {FN2} outside the station in {LOC} .",
    "{ORG} and {ORG2} signed a partnership agreement on {DAY} .",
    "The film {WORK} was dubbed into {LANG} for its release in {LOC} .",
    "{LOC} is about three hours by train from {LOC2} .",
    "{PER} founded {ORG} in {YEAR} .",
    "The {NAT} chef {PER} opened a restaurant in {LOC} .",
    "Engineers at {ORG} are testing the {PROD} in {LOC} .",
    "Thousands of runners took part in the {EVENT} despite the rain .",
    "{FN} , can you send the report to {ORG} before {DAY} ?",
    "In {LOC} , {PER} is better known for painting than for politics .",
    "The {EVENT} was postponed after heavy storms hit {LOC} .",
    "{ORG} 's new headquarters in {LOC} will open in {YEAR} .",
    "Our guide , {FN} , switched between {LANG} and {LANG2} without missing a beat .",
    "{PER} won the award for {WORK} .",
    "She bought a second-hand {PROD} from a shop in {LOC} .",
    "Shares in {ORG} rose after the company reported strong results .",
    "{LN} told reporters in {LOC} that the talks had gone well .",
    "The {NAT} team finished third at the {EVENT} .",
    "{PER} and {PER2} co-wrote {WORK} while living in {LOC} .",
    "Is the {PROD} available outside {LOC} ?",
    "Next summer , {FN} is cycling from {LOC} to {LOC2} .",
    "{ORG} recalled thousands of {PROD} units after complaints from customers in {LOC} .",
    "Most of the guests at the {EVENT} were {NAT} .",
    "The meeting on {DAY} has been cancelled .",
    "Sales fell by {NUM} units in {MONTH} .",
    "We usually go swimming on {DAY} evenings .",
]
NER_TEST_TEMPLATES = [
    "Last {MONTH} , {PER} left {ORG} to start a company in {LOC} .",
    "{ORG} , based in {LOC} , makes the {PROD} .",
    "Why did {FN} move to {LOC} ?",
    "The {EVENT} attracts visitors from {LOC} and {LOC2} every year .",
    "{WORK} has been translated into {LANG} .",
    "{PER} is the {NAT} ambassador to {LOC} .",
    "Visitors to {LOC} can try the {PROD} at the {ORG} store .",
    "{LN} , the coach of {CLUB} , praised the {NAT} striker .",
    "A spokesperson said {ORG} would appeal the decision .",
    "{FN} learned {LANG} while working for {ORG} in {LOC} .",
    "During the {EVENT} , {PER} read from {WORK} .",
    "Rain is expected across {LOC} on {DAY} .",
    "{PER} thanked the staff at {ORG} .",
    "{NAT} and {NAT2} fans filled the stadium in {LOC} .",
    "The corner shop closes early every {DAY} .",
]

# Fully hand-written tagged sentences: [TYPE tokens ...] marks an entity.
NER_HAND = [
    "[PER Amara Okafor] opened the meeting with a short speech .",
    "Yesterday the [ORG Harlow Street Library] extended its opening hours .",
    "[LOC Lake Geneva] was calm and bright on Sunday .",
    "The [MISC Ethiopian] runner led for most of the race .",
    "I left my umbrella on the bus again .",
    "Can you call me back after lunch ?",
    "[PER Jonas] , [PER Mei] and [PER Tobias] shared a flat in [LOC Glasgow] for three years .",
    "The [MISC Riverside Half Marathon] starts at the bridge and finishes in [LOC Greenwich Park] .",
    "[ORG Quillstone Press] will publish [MISC The Salt Archive] in the spring .",
    "According to the [ORG Meridian Weather Service] , [LOC Scotland] will see snow this week .",
    "[PER Kwame Mensah-Holt] plays the violin in the [ORG Eastbank Youth Orchestra] .",
    "The report was finished late on Friday night .",
    "Prices went up again this month .",
    "Her grandparents emigrated from [LOC Lebanon] to [LOC Brazil] in the 1950s .",
    "The [MISC Finnish] word for it has no easy [MISC English] translation .",
    "[ORG Tallis Motors] unveiled the [MISC Tallis E7] at the [MISC Northern Motor Show] .",
    "Everyone clapped when the lights came back on .",
    "[LOC Montevideo] and [LOC Buenos Aires] face each other across the [LOC Río de la Plata] .",
    "[PER Signe Holm] , the coach , said the team was ready .",
    "Do you think it will rain tomorrow ?",
    "The committee met twice but reached no decision .",
    "[PER Leila Haddad] translated the poems from [MISC Arabic] into [MISC French] .",
    "Our train to [LOC Kraków] was delayed by two hours .",
    "[ORG Greenhollow Rovers] have not won at home since March .",
    "The [MISC Canadian] band played their last show at the [MISC Lakeside Sound Festival] .",
    "Mr [PER Petrov] will chair the session .",
    "Water levels in the [LOC Danube] rose sharply overnight .",
    "[ORG Copperleaf Foods] is recalling a batch of peanut butter .",
    "Please bring a packed lunch and sturdy shoes .",
    "The children spent the whole afternoon building a sandcastle .",
    "[PER Diego] asked whether the [MISC Pixelnote 5] could run the new software .",
    "[MISC Winter Lanterns] is the third film directed by [PER Camille Moreau] .",
    "[LOC Morocco] beat [LOC Ghana] in the final .",
    "The [ORG Pinecrest Hospital] board approved the new wing .",
    "He paid for the tickets in cash .",
    "[PER Yuki Nakamura] moved from [LOC Osaka] to [LOC Vancouver] to work at [ORG Lumen Labs] .",
    "Many [MISC Norwegian] families spend the holidays in the mountains .",
    "The meeting has been moved to Thursday .",
    "The [ORG Sunvale University] choir performed at the [MISC Harbour Lights Festival] .",
    "[PER Greta Lindqvist] won the [MISC Coastal Poetry Prize] for [MISC A Map of Small Rivers] .",
    "[LOC New Zealand] is a very long way from [LOC Iceland] .",
    "I think the printer on the second floor is broken again .",
    "[ORG Northgate Insurance] has moved its call centre to [LOC Cardiff] .",
    "Traffic was terrible on the way home .",
    "[PER Emeka Adeyemi] speaks [MISC Yoruba] , [MISC English] and a little [MISC Portuguese] .",
    "The [MISC Kenyan] and [MISC Ugandan] teams trained together in [LOC Eldoret] .",
    "Thank you all for coming , and drive safely .",
    "A [MISC Vietnamese] cookbook by [PER Mai Tran] topped the list at [ORG Fernside Books] .",
    "The bakery on the corner sells out of bread by nine .",
    "[PER Idris] waved from the other side of the street .",
]
NER_HAND_TEST = 10  # of the hand-written NER sentences, this many go to test
NER_TRAIN_SENTENCES = 300
NER_TEST_SENTENCES = 66

SLOT_TYPES = {"PER": "PER", "FN": "PER", "LN": "PER", "ORG": "ORG", "CLUB": "ORG", "LOC": "LOC",
              "NAT": "MISC", "LANG": "MISC", "EVENT": "MISC", "PROD": "MISC", "WORK": "MISC"}


def _ner_pools(split: str) -> dict[str, list[str]]:
    return {
        "FIRST": _split_pool(FIRST, split), "LAST": _split_pool(LAST, split),
        "ORG": _split_pool(ORGS, split), "CLUB": _split_pool(CLUBS, split),
        "LOC": _split_pool(LOCS, split), "NAT": _split_pool(NATS, split),
        "LANG": _split_pool(LANGS, split), "EVENT": _split_pool(EVENTS, split),
        "PROD": _split_pool(PRODS, split), "WORK": _split_pool(WORKS, split),
    }


def _fill_ner(template: str, pools: dict[str, list[str]], rng: random.Random) -> list[tuple[str, str]]:
    used: dict[str, set] = {}
    tokens: list[tuple[str, str]] = []
    for piece in template.split(" "):
        m = re.fullmatch(r"\{([A-Z]+?)(\d?)\}", piece)
        if not m:
            tokens.append((piece, "O"))
            continue
        slot = m.group(1)
        if slot == "DAY":
            tokens.append((rng.choice(DAYS), "O"))
            continue
        if slot == "MONTH":
            tokens.append((rng.choice(MONTHS), "O"))
            continue
        if slot == "YEAR":
            tokens.append((str(rng.randint(1992, 2021)), "O"))
            continue
        if slot == "NUM":
            tokens.append((rng.choice(["40", "120", "300", "450", "1,200", "2,000"]), "O"))
            continue
        etype = SLOT_TYPES[slot]
        for _ in range(20):
            if slot == "PER":
                value = rng.choice(pools["FIRST"]) + " " + rng.choice(pools["LAST"])
            elif slot == "FN":
                value = rng.choice(pools["FIRST"])
            elif slot == "LN":
                value = rng.choice(pools["LAST"])
            else:
                value = rng.choice(pools[slot])
            if value not in used.setdefault(etype, set()):
                break
        used[etype].add(value)
        for j, word in enumerate(value.split(" ")):
            tokens.append((word, ("B-" if j == 0 else "I-") + etype))
    return tokens


def _parse_bracketed(sentence: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    etype, first = None, False
    for piece in sentence.split(" "):
        if piece.startswith("[") and len(piece) > 1:
            etype, first = piece[1:], True
            continue
        closing = etype is not None and piece.endswith("]") and len(piece) > 1
        word = piece[:-1] if closing else piece
        if etype is None:
            tokens.append((word, "O"))
        else:
            tokens.append((word, ("B-" if first else "I-") + etype))
            first = False
        if closing:
            etype = None
    if etype is not None:
        raise ValueError(f"unclosed entity in {sentence!r}")
    return tokens


def make_ner(rng: random.Random) -> dict[str, list[list[tuple[str, str]]]]:
    hand = [_parse_bracketed(s) for s in NER_HAND]
    rng.shuffle(hand)
    out = {"test": hand[:NER_HAND_TEST], "train": hand[NER_HAND_TEST:]}
    seen = {" ".join(t for t, _ in s) for s in hand}
    for split, target, templates in (("train", NER_TRAIN_SENTENCES, NER_TRAIN_TEMPLATES),
                                     ("test", NER_TEST_SENTENCES, NER_TEST_TEMPLATES)):
        pools = _ner_pools(split)
        i = 0
        while len(out[split]) < target:
            template = templates[i % len(templates)]
            i += 1
            for _ in range(30):
                sent = _fill_ner(template, pools, rng)
                text = " ".join(t for t, _ in sent)
                if text not in seen:
                    seen.add(text)
                    out[split].append(sent)
                    break
        rng.shuffle(out[split])
    return out


def validate_bio(sentence: list[tuple[str, str]]) -> None:
    prev = "O"
    for token, tag in sentence:
        if not token or " " in token:
            raise ValueError(f"bad token {token!r}")
        if tag != "O" and not re.fullmatch(r"[BI]-(PER|ORG|LOC|MISC)", tag):
            raise ValueError(f"bad tag {tag!r}")
        if tag.startswith("I-") and prev[2:] != tag[2:]:
            raise ValueError(f"I- tag without B-: {sentence}")
        prev = tag


# ---------------------------------------------------------------------------------------


def write_all(out_dir: Path) -> dict:
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(SEED)
    sentiment = make_sentiment(rng)
    ner = make_ner(rng)
    for split, rows in sentiment.items():
        with open(out_dir / f"sentiment_{split}.csv", "w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow(["text", "label", "domain"])
            writer.writerows(rows)
    for split, sentences in ner.items():
        with open(out_dir / f"ner_{split}.conll", "w", encoding="utf-8", newline="\n") as fh:
            for sent in sentences:
                validate_bio(sent)
                fh.write("".join(f"{tok} {tag}\n" for tok, tag in sent))
                fh.write("\n")
    stats = {}
    for split, rows in sentiment.items():
        stats[f"sentiment_{split}"] = {
            "total": len(rows),
            "label": dict(sorted(Counter(r[1] for r in rows).items())),
            "domain": dict(sorted(Counter(r[2] for r in rows).items())),
        }
    for split, sentences in ner.items():
        ents = Counter(tag[2:] for s in sentences for _, tag in s if tag.startswith("B-"))
        stats[f"ner_{split}"] = {"sentences": len(sentences),
                                 "tokens": sum(len(s) for s in sentences),
                                 "entities": dict(sorted(ents.items()))}
    return stats


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output-dir", type=Path, default=HERE,
                        help="where to write the four files (default: next to this script)")
    args = parser.parse_args(argv)
    stats = write_all(args.output_dir)
    for name, value in stats.items():
        print(name, value, file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
