"""The deploy checks' English messages in Danish a process owner understands, for the studio.

The checks (engine.validation, engine.form_sources, engine.forms,
engine.timer_rules, engine.deadlines, engine.catalog) speak English, as the
API and the CLI do. The studio shows the same findings in Danish: `danish()`
looks each message up in RULES, a table of the engine's messages (a regular
expression each, with the varying parts named) and their Danish text. A
message the table does not know is shown as it is, so a new check is never
hidden, only untranslated. tests/engine/test_studio_words.py checks the
table against messages the engine really produces.

Pure; no database.
"""
from __future__ import annotations

import re
from collections.abc import Iterator, Mapping

# What an element, attribute or expression tag is called in the Danish text.
WORDS = {
    "timeDuration": "Timerens varighed", "timeDate": "Timerens tidspunkt", "timeCycle": "Timerens gentagelse",
    "script": "Scriptet", "conditionExpression": "Betingelsen på forbindelsen",
    "sourceRef": "Forbindelsens start", "targetRef": "Forbindelsens mål",
    "attachedToRef": "Randhændelsens opgave", "messageRef": "Hændelsens besked", "default": "Standardvejen",
}


class _Parts(Mapping):
    """The named parts of a match for str.format_map: `{x}` as found, `{x_da}` in Danish, `{x_w}` as a word."""

    def __init__(self, match: re.Match):
        self.match = match

    def __getitem__(self, name: str) -> str:
        if name.endswith("_da"):
            return danish(self.match[name[:-3]] or "")
        if name.endswith("_w"):
            value = self.match[name[:-2]] or ""
            return WORDS.get(value, value)
        return self.match[name] or ""

    def __iter__(self) -> Iterator[str]:
        return iter(self.match.groupdict())

    def __len__(self) -> int:
        return len(self.match.groupdict())


def _rule(pattern: str, danish_text: str) -> tuple[re.Pattern, str]:
    return re.compile(pattern, re.DOTALL), danish_text


USE_EXTERNAL = "vælg Implementation »External« og angiv et emne (topic)"

RULES: list[tuple[re.Pattern, str]] = [
    # decision tables (engine.validation.check_dmn)
    _rule(r"hit policy (?P<policy>.*) is not supported \(use UNIQUE, FIRST or COLLECT\)",
          "Beslutningstabellens hit policy »{policy}« understøttes ikke. Brug UNIQUE (én regel passer), "
          "FIRST (den første regel, der passer) eller COLLECT (alle regler, der passer)."),
    _rule(r"COLLECT with aggregation (?P<agg>.*) is not supported; collect the list and sum it in a script task",
          "COLLECT med sammenlægning ({agg}) understøttes ikke. Vælg COLLECT uden sammenlægning, og læg "
          "resultaterne sammen i en scriptopgave."),
    _rule(r"'-' is FEEL for 'any'; leave the cell empty instead",
          "»-« betyder »hvad som helst« i FEEL, som tabellerne her ikke bruger. Lad cellen være tom i stedet."),
    _rule(r"cell '(?P<text>.*)' is not a Python expression \(DMN cells here are Python, not FEEL: .*\)",
          "Cellen »{text}« kan ikke læses. Cellerne skrives som Python-udtryk, fx \"jobparat\", < 8, "
          "in [1, 2] eller True (tekst i anførselstegn)."),
    _rule(r"input '(?P<label>.*)' has no expression: name the case's field it reads",
          "Inputtet »{label}« mangler sit udtryk. Skriv navnet på det felt i sagen, som kolonnen læser."),
    _rule(r"input expression '(?P<text>.*)' is not a Python expression",
          "Inputtets udtryk »{text}« kan ikke læses. Skriv et feltnavn fra sagen eller et Python-udtryk."),
    _rule(r"output '(?P<label>.*)' has no name: the case's field the result is stored in",
          "Outputtet »{label}« mangler et navn. Navnet er det felt i sagen, som resultatet gemmes i."),
    # lanes, tasks, ids and references (engine.validation)
    _rule(r"lane '(?P<name>.*)' does not name a unit \(known units: (?P<known>.*)\)",
          "Svømmebanen »{name}« er ikke en enhed. Giv banen en af enhederne: {known}."),
    _rule(r"this task is in no lane, so no unit would receive it",
          "Opgaven ligger ikke i nogen svømmebane, så ingen enhed ville få den. Træk den ind i enhedens bane."),
    _rule(r"the process has no lanes; put each user task in the lane of the unit that does it",
          "Processen har ingen svømmebaner. Læg hver opgave i banen for den enhed, der udfører den."),
    _rule(r"id '(?P<id>.*)' is used twice \(first on line (?P<line>\d+)\)",
          "Id'et »{id}« bruges to gange (første gang i linje {line}). Giv det ene element et andet id."),
    _rule(r"id '(?P<id>.*)' is reserved by the workflow engine; rename the element",
          "Id'et »{id}« er reserveret af arbejdsgangsmotoren. Giv elementet et andet id."),
    _rule(r"(?P<attr>\w+) '(?P<ref>.*)' points to no element in this file",
          "{attr_w} »{ref}« peger på et element, som ikke findes i diagrammet."),
    _rule(r"calls process '(?P<key>.*)', which is neither in this deployment nor deployed",
          "Kalder processen »{key}«, som ikke er udgivet. Vælg en udgivet proces."),
    _rule(r'no executable process \(set isExecutable="true" on the process\)',
          "Diagrammet har ingen kørbar proces: markér processen som kørbar (Executable)."),
    # expressions, scripts and timers (engine.validation, engine.timer_rules)
    _rule(r"empty (?P<tag>\w+)", "{tag_w} er tom."),
    _rule(r'(?P<tag>time\w+) (?P<code>.*) must be quoted: timer values are expressions \("(?P<q>.*)"\)',
          '{tag_w} {code} skal stå i anførselstegn, fordi timerværdier er udtryk: skriv "{q}".'),
    _rule(r'(?P<tag>\w+) is not a valid expression: (?P<why>.*) \(timer values are expressions: quote literals, '
          r'e\.g\. "P5D"\)',
          '{tag_w} er ikke et gyldigt udtryk ({why}). Timerværdier er udtryk: sæt anførselstegn om, fx "P5D".'),
    _rule(r"(?P<tag>\w+) is not a valid expression: (?P<why>.*) \(expressions are Python, e\.g\. "
          r"forsikret == True, not Camunda's \$\{\.\.\.\}\)",
          "{tag_w} er ikke et gyldigt udtryk ({why}). Udtryk skrives i Python, fx forsikret == True, "
          "ikke som Camundas ${{...}}."),
    _rule(r"(?P<tag>\w+) is not a valid expression: (?P<why>.*)", "{tag_w} er ikke et gyldigt udtryk ({why})."),
    _rule(r"(?P<tag>\w+) breaks the script rules: (?P<why>.*)", "{tag_w} bryder reglerne for scripts: {why}"),
    _rule(r"(?P<tag>time\w+) calls (?P<name>\w+)\(\), which is neither a helper nor an allowed builtin",
          "{tag_w} kalder {name}(), som hverken er en hjælpefunktion eller tilladt."),
    _rule(r"deadline\(\.\.\.\) gives a moment \(a date and time\), so it belongs in a timeDate, not a (?P<tag>\w+)",
          "deadline(...) giver et tidspunkt, så det hører til i timerens tidspunkt (timeDate), ikke i {tag_w}."),
    _rule(r"(?P<tag>time\w+): deadline\((?P<spec>.*)\): (?P<why>.*)", "{tag_w}: deadline({spec}): {why_da}"),
    _rule(r"timeDuration (?P<v>.*) is negative; a timer can only wait forward in time",
          "Timerens varighed {v} er negativ; en timer kan kun vente frem i tiden."),
    _rule(r"(?P<tag>time\w+) (?P<v>.*) is not an ISO 8601 duration \(.*\)",
          '{tag_w} {v} er ikke en varighed (skriv fx "P5D" for fem dage eller "PT2H" for to timer).'),
    _rule(r"(?P<tag>time\w+) (?P<v>.*) is more than 100 years ahead",
          "{tag_w} {v} ligger mere end 100 år ude i fremtiden."),
    _rule(r"timeCycle (?P<v>.*) ends more than 100 years ahead",
          "Timerens gentagelse {v} slutter mere end 100 år ude i fremtiden."),
    _rule(r"timeDate (?P<v>.*) is not a moment \(.*\); a wait belongs in a timeDuration",
          "Timerens tidspunkt {v} er ikke et tidspunkt; en ventetid hører til i timerens varighed."),
    _rule(r"timeDate (?P<v>.*) is outside the dates a timer can hold",
          "Timerens tidspunkt {v} ligger uden for de datoer, en timer kan rumme."),
    _rule(r"timeDate (?P<v>.*) is not an ISO 8601 date and time \(.*\)",
          'Timerens tidspunkt {v} er ikke en dato og et klokkeslæt (skriv fx "2026-05-01T09:00:00+02:00").'),
    _rule(r"timeCycle (?P<v>.*) has no repetitions: .*",
          'Timerens gentagelse {v} siger ikke, hvor mange gange den skal gå af (skriv fx "R3/PT1H"); '
          "til en enkelt ventetid bruges timerens varighed."),
    _rule(r"timeCycle (?P<v>.*) repeats without end; .*",
          'Timerens gentagelse {v} gentages uden ende; angiv hvor mange gange (højst 1000), fx "R3/PT1H".'),
    _rule(r"timeCycle (?P<v>.*): the number of repetitions must be from 1 to (?P<n>\d+)",
          "Timerens gentagelse {v}: antallet af gentagelser skal være fra 1 til {n}."),
    _rule(r"timeCycle (?P<v>.*): the time between repetitions must be longer than zero",
          "Timerens gentagelse {v}: tiden mellem gentagelserne skal være længere end nul."),
    _rule(r"timeCycle (?P<v>.*) is not an ISO 8601 repeating interval \(.*\)",
          'Timerens gentagelse {v} kan ikke læses (skriv fx "R3/PT1H").'),
    _rule(r"(?P<tag>time\w+) gives (?P<type>\w+), but a timer needs ISO 8601 text \(.*\)",
          "{tag_w} giver en værdi af typen {type}, men en timer skal have tekst som \"P5D\"."),
    # Tovholder's properties (engine.validation)
    _rule(r"a deadline belongs on a user task \(draw a timer event for other waits\)",
          "En frist hører til på en brugeropgave; tegn en timerhændelse for andre ventetider."),
    _rule(r"deadline: (?P<why>.*)", "Fristen: {why_da}"),
    _rule(r"audience belongs on a user task", "Modtagere (audience) hører til på en brugeropgave."),
    _rule(r"audience must be one of: (?P<known>.*) \(got '(?P<v>.*)'\)",
          "Modtagere skal være tom (alle i enheden) eller teamlead (enhedens teamledere), ikke »{v}«."),
    _rule(r"payload belongs on a message throw or end event",
          "Beskedens indhold (payload) hører til på en hændelse, der sender en besked."),
    _rule(r"payload must list case-data field names separated by commas, .* \(got '(?P<v>.*)'\)",
          "Beskedens indhold skal være navne på felter i sagens data, adskilt af komma, "
          "fx »kategori, problemomraader« (ikke »{v}«)."),
    _rule(r"correlation_key must name a field of the case data",
          "Korrelationsnøglen skal være navnet på et felt i sagens data."),
    _rule(r"an event-based gateway may wait for one timer only \(found (?P<found>.*)\): .*",
          "En hændelsesgateway kan kun vente på én timer (fandt {found}). Behold den tidligste, "
          "eller sæt den senere på en opgave som randtimer."),
    # Camunda 7 diagrams (engine.bpmn.camunda7_checks, engine.bpmn.juel): the attribute's own name stays
    _rule(r"camunda:(?P<name>[\w:.-]+) is not supported: a service task here runs no Java class or expression: .*",
          f"camunda:{{name}} kan ikke bruges her: en serviceopgave kører ikke Java-klasser eller udtryk; {USE_EXTERNAL}."),
    _rule(r"camunda:(?P<name>[\w:.-]+) on (?P<tag>.*?) is not supported: (?P<reason>.*)",
          "camunda:{name} på {tag} kan Tovholder ikke udføre, så diagrammet afvises ({reason})."),
    _rule(r"camunda:(?P<name>[\w:.-]+)=\"(?P<value>.*)\": (?P<reason>.*)",
          "camunda:{name}=»{value}« kan ikke bruges: {reason}"),
    _rule(r"camunda:(?P<name>[\w:.-]+) in an input/output parameter is not supported: (?P<reason>.*)",
          "camunda:{name} i en input/output-parameter understøttes ikke ({reason})."),
    _rule(r"camunda:(?P<name>[\w:.-]+) local=\"true\" is not supported: (?P<reason>.*)",
          "camunda:{name} med local=\"true\" understøttes ikke ({reason})."),
    _rule(r"camunda:(?P<name>[\w:.-]+) variables=\"(?P<value>.*)\" is not supported (?P<reason>.*)",
          "camunda:{name} med variables=»{value}« understøttes ikke {reason}."),
    _rule(r"camunda:(?P<name>[\w:.-]+) is not supported(?: here)?", "camunda:{name} understøttes ikke her."),
    _rule(r"camunda:(?P<name>[\w:.-]+) (?P<what>\S+) is not supported", "camunda:{name} {what} understøttes ikke."),
    _rule(r"a \$\{…\} expression in (?P<tag>.*?) is not supported \(it would run as Python\)(?P<rest>.*)",
          "Et ${{…}}-udtryk i {tag} understøttes ikke (det ville blive kørt som Python){rest}"),
    _rule(r"calledElement must name the process; a \$\{…\} expression is not supported",
          "calledElement skal give processens navn; et ${{…}}-udtryk understøttes ikke."),
    _rule(r"the form constraint '(?P<constraint>.*?)' is not supported (?P<rest>.*)",
          "Formularbetingelsen »{constraint}« understøttes ikke {rest}"),
    _rule(r"form field '(?P<field>.*?)' has type '(?P<kind>.*?)', which is not supported (?P<rest>.*)",
          "Formularfeltet »{field}« har typen »{kind}«, som ikke understøttes {rest}"),
    _rule(r"form field '(?P<field>.*?)': (?P<what>.*) is not supported (?P<rest>.*)",
          "Formularfeltet »{field}«: {what} understøttes ikke {rest}"),
    _rule(r"scriptFormat '(?P<format>.*?)' is not supported: (?P<rest>.*)",
          "Scriptsproget »{format}« understøttes ikke: scripts skrives i Python her ({rest})."),
    _rule(r"a condition on a flow out of a (?P<kind>.*?) is not supported (?P<rest>.*)",
          "En betingelse på en pil ud af en {kind} understøttes ikke {rest}"),
    _rule(r"(?:(?P<where>[\w:]+) )?(?P<expression>\$\{.*\}): (?P<reason>.*)",
          "Udtrykket {expression} kan ikke oversættes: {reason}"),
    # service tasks (engine.validation)
    _rule(r"a service task here runs no Java class or expression: .*",
          f"En serviceopgave kan ikke køre Java-klasser eller udtryk her: {USE_EXTERNAL}."),
    _rule(r"service task type '(?P<kind>.*)' is not supported: .*",
          f"Serviceopgavetypen »{{kind}}« understøttes ikke: {USE_EXTERNAL}."),
    _rule(r"this service task names no topic: .*",
          "Serviceopgaven har intet emne (topic): vælg Implementation »External«, og skriv fx brev_til_borger "
          "som emne."),
    _rule(r"topic '(?P<a>.*)' and property topic '(?P<b>.*)' differ",
          "Emnet »{a}« og egenskaben topic »{b}« er forskellige; behold ét af dem."),
    _rule(r"topic '(?P<v>.*)' must be lower-case letters, digits and _",
          "Emnet »{v}« må kun bestå af små bogstaver, tal og _."),
    _rule(r"retries must be a whole number from 0 to 100 \(got '(?P<v>.*)'\)",
          "Genforsøg (retries) skal være et helt tal fra 0 til 100, ikke »{v}«."),
    # deadlines (engine.deadlines), also inside "deadline: ..."
    _rule(r"no deadline named '(?P<name>.*)' in the configuration \(known: (?P<known>.*)\)",
          "der er ingen frist ved navn »{name}« (kendte frister: {known})."),
    _rule(r"'(?P<v>.*)' is not an ISO 8601 duration with date parts \(.*\)",
          "»{v}« er ikke en varighed i år, måneder, uger eller dage (fx P7D, P2W, P3M)."),
    _rule(r"cannot read deadline '(?P<v>.*)': .*",
          "»{v}« kan ikke læses; skriv fx »P14D working from ansoegning_dato« eller navnet på en frist."),
    _rule(r"'(?P<v>.*)': years and months cannot be counted in working days",
          "»{v}«: år og måneder kan ikke tælles i arbejdsdage."),
    _rule(r"empty deadline", "fristen er tom."),
    # rule-set switches and form swaps (engine.rule_set_checks)
    _rule(r'switch\(\) takes one switch name in quotes, e\.g\. switch\("(?P<eg>.*)"\)',
          'switch() tager navnet på én kontakt i anførselstegn, fx switch("{eg}").'),
    _rule(r"switch\('(?P<name>.*)'\): there is no switch '.*' in \[switches\] of the deadline file \(known: (?P<known>.*)\)",
          "Der er ingen kontakt »{name}« under [switches] i fristfilen (kendte kontakter: {known})."),
    _rule(r"rule set '(?P<rs>.*?)' swaps form '(?P<key>.*?)' for '(?P<alt>.*?)': (?P<why>.*)",
          "Regelsættet »{rs}« bytter formularen »{key}« ud med »{alt}«: {why_da}"),
    _rule(r"the diagram reads field '(?P<f>.*)', which the alternative form lacks",
          "forløbet læser feltet »{f}«, som den anden formular mangler."),
    _rule(r"field '(?P<f>.*)' is (?P<a>\w+) in the alternative form, (?P<o>\w+) in the ordinary one",
          "feltet »{f}« har typen {a} i den anden formular, men {o} i den ordinære."),
    _rule(r"field '(?P<f>.*)' is required in the ordinary form, so it must be in the alternative too",
          "feltet »{f}« er påkrævet i den ordinære formular og skal derfor også være det i den anden."),
    # forms (engine.form_sources, engine.forms, engine.drafts)
    _rule(r"form '(?P<key>.*)' is neither .*",
          "Formularen »{key}« findes ikke. Vælg en eksisterende formular, eller opret den under Formularer."),
    _rule(r"form '(?P<key>.*)' does not exist in .*",
          "Formularen »{key}« findes ikke. Vælg en eksisterende formular, eller opret den under Formularer."),
    _rule(r"form '(?P<key>.*)' is named by no task or event of the deployed processes",
          "Formularen »{key}« bruges ikke af nogen opgave eller hændelse i forløbet. Vælg den på en opgave, "
          "eller slet den fra udkastet."),
    _rule(r"form file (?P<file>\S+) is invalid: (?P<why>.*)", "Formularen {file} er ugyldig: {why_da}"),
    _rule(r"the layout (?P<name>\S+) needs its form (?P<key>.*)\.json in the same upload",
          "Layoutet {name} mangler sin formular {key}.json i udkastet."),
    _rule(r"form '(?P<key>.*)' is found twice under (?P<where>.*?): .*",
          "Formularen »{key}« findes to gange i {where}; der må kun være én."),
    _rule(r'expected \{"title": \.\.\., "fields": \[\.\.\.\]\}',
          "formularen skal have en titel og en liste af felter."),
    _rule(r'a form file is a JSON object: .*', "formularen skal have en titel og en liste af felter."),
    _rule(r"each field needs a name of letters, digits, _ or - .*",
          "hvert felt skal have et navn af bogstaver, tal, _ eller -."),
    _rule(r"field '(?P<name>.*)' appears twice", "feltet »{name}« findes to gange."),
    _rule(r"field '(?P<name>.*)' has unknown type '(?P<type>.*)'", "feltet »{name}« har den ukendte type »{type}«."),
    _rule(r"choice field '(?P<name>.*)' has no choices", "valgfeltet »{name}« har ingen valgmuligheder."),
    _rule(r"not valid JSON: (?P<why>.*)", "formularen er ikke gyldig JSON ({why})."),
    _rule(r"form file is larger than (?P<n>\d+) bytes", "Formularen er større end {n} bytes."),
    _rule(r"larger than (?P<n>\d+) bytes", "filen er større end {n} bytes."),
    _rule(r"holds a NUL or a lone surrogate", "filen indeholder tegn, der ikke kan gemmes (et NUL-tegn eller en enlig surrogat)."),
    _rule(r"the form file is not UTF-8 encoded", "Formularen er ikke gemt som UTF-8."),
    _rule(r"a form file is named (after its form key|<form key>\.json).*",
          "En formular navngives efter sin nøgle: bogstaver, tal, _ eller -, fx kh_visitation.json."),
    # the file as a whole (engine.validation, engine.drafts)
    _rule(r"not well-formed XML: (?P<why>.*)", "Diagrammet er ikke gyldig XML ({why})."),
    _rule(r"not a BPMN 2\.0 document \(expected bpmn:definitions\)", "Filen er ikke et BPMN 2.0-diagram."),
    _rule(r"a DOCTYPE \(DTD or entity declarations\) is not allowed in a diagram.*",
          "Diagrammet må ikke indeholde en DOCTYPE-linje (<!DOCTYPE ...>); fjern den."),
    _rule(r"(the )?file is larger than (?P<n>\d+) bytes", "Diagrammet er større end {n} bytes."),
    _rule(r"the diagram is larger than (?P<n>\d+) bytes", "Diagrammet er større end {n} bytes."),
    _rule(r"the file is not UTF-8 encoded.*", "Diagrammet er ikke gemt som UTF-8."),
    _rule(r"the diagram must be BPMN XML text", "Udkastet indeholder intet diagram."),
    _rule(r"the diagram holds characters no text can store.*",
          "Diagrammet indeholder tegn, der ikke kan gemmes (et NUL-tegn eller en enlig surrogat)."),
    _rule(r"the diagram could not be parsed \((?P<why>.*)\)",
          "Arbejdsgangsmotoren kan ikke læse diagrammet ({why})."),
    # the migration of running cases (engine.migration), for the studio's report
    _rule(r"the case is on version (?P<a>\d+), not (?P<b>\d+)", "Sagen er på version {a}, ikke {b}."),
    _rule(r"the case is (?P<status>completed|cancelled)",
          "Sagen er {status_w}."),
    _rule(r"the case runs '(?P<a>.*)', not '(?P<b>.*)'", "Sagen hører til forløbet »{a}«, ikke »{b}«."),
    _rule(r"the case was changed by someone else at the same moment; migrate it again",
          "Sagen blev ændret af en anden i samme øjeblik; flyt den igen."),
    _rule(r"the case stands on '(?P<el>.*)', which the new version does not have; map it to an element of the "
          r"new version",
          "Sagen står på »{el}«, som ikke findes i den nye version; vælg det trin i den nye version, "
          "sagen skal flyttes til."),
    _rule(r"the case has passed '(?P<el>.*)', which the new version does not have; map it to an element of the "
          r"new version",
          "Sagen har passeret »{el}«, som ikke findes i den nye version; vælg det trin i den nye version, "
          "det svarer til."),
    _rule(r"'(?P<el>.*)' is claimed by (?P<who>.*), who is not a member of unit '(?P<unit>.*)' that the new "
          r"version gives it",
          "»{el}« er overtaget af {who}, som ikke er med i enheden »{unit}«, som den nye version giver opgaven."),
    _rule(r"the open task '(?P<el>.*)' is not waiting for work in the moved case",
          "Den åbne opgave »{el}« ville ikke vente på arbejde i den flyttede sag."),
    _rule(r"'(?P<el>.*)' is not an element of version (?P<v>\d+)", "»{el}« er ikke et trin i version {v}."),
    _rule(r"'(?P<el>.*)' failed and has not been retried", "»{el}« fejlede og er ikke prøvet igen."),
    _rule(r"the timer cycle '(?P<el>.*)' changes in the new version; let it finish first",
          "Timerens gentagelse »{el}« ændres i den nye version; lad den blive færdig først."),
]
WORDS.update({"completed": "afsluttet", "cancelled": "annulleret"})


def danish_reasons(text: str) -> str:
    """Reasons joined with "; " (a refused migration), each in Danish; a reason may hold "; " itself."""
    parts, found, start = (text or "").split("; "), [], 0
    while start < len(parts):
        for end in range(len(parts), start, -1):
            candidate = "; ".join(parts[start:end])
            if _known(candidate):
                found.append(danish(candidate))
                start = end
                break
        else:
            found.append(parts[start])
            start += 1
    return " ".join(found)


def _known(message: str) -> bool:
    return any(pattern.fullmatch(message.strip()) for pattern, _ in RULES)


def danish(message: str) -> str:
    """The Danish text of one of the engine's messages; the message itself if the table does not know it."""
    text = (message or "").strip()
    for pattern, template in RULES:
        match = pattern.fullmatch(text)
        if match is not None:
            return template.format_map(_Parts(match))
    return text
