"""The bot's own words, per language: welcome, help, "did you mean", decline, errors."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from bot.core.knowledge import Language


@dataclass(frozen=True)
class Messages:
    """Every user-facing string the bot writes itself, in one language."""

    welcome: str
    about: str
    help_intro: str
    help_topics: str  # after the first topic commands: "/delegation, /principles … — <this>"
    topics_intro: str
    did_you_mean: str
    decline: str
    decline_opinion: str  # a decline of a message that asks for the bot's own view
    decline_year: str  # a decline of a message that names a year ({year}): the article has none
    decline_topics: str
    decline_closest: str
    empty_question: str
    source_label: str
    not_covered_label: str
    paragraph: str
    paragraphs: str
    and_: str
    unknown_topic: str
    stale_button: str
    error: str
    ask_usage: str
    unknown_command: str
    topics_button: str
    lang_set: str
    lang_auto: str
    lang_usage: str
    greeting: str
    thanks: str
    capabilities: str
    goodbye: str
    ack: str
    vote_thanks: str
    vote_stale: str
    share: str
    inline_no_match_title: str
    inline_no_match: str
    flood: str
    only_text: str
    stats_no_store: str
    stats_unreadable: str
    stats_knowledge: str
    stats_feedback: str
    stats_top_unanswered: str
    stats_most_downvoted: str
    stats_none: str
    reload_done: str
    privacy: str
    forgotten: str
    reload_refused: str


EN: Final = Messages(
    welcome="Hello! I answer questions about one news story: the U.S.–Mexico agreement to act "
    "together against organized crime.",
    about="Ask me in your own words (English or Spanish), or pick a topic below. "
    "I only say what the article says, and I tell you when it does not say something.",
    help_intro="Write a question, for example: who led the Mexican delegation?",
    help_topics="jump straight to a topic",
    topics_intro="Here is what the article covers. Tap a topic:",
    did_you_mean="I'm not sure which of these you mean. Did you mean:",
    decline="Sorry, the article does not seem to cover that",
    decline_opinion="I have no opinion to give: I only report what the article says, and it "
    "does not judge or forecast",
    decline_year="The article gives no year, so I cannot tell you about {year}",
    decline_closest="The nearest topic the article does cover:",
    decline_topics="It is about the U.S.–Mexico agreement against organized crime: the goal, "
    "fentanyl and arms trafficking, the delegation, the four principles and what comes next. "
    "Send /topics to see everything I can answer.",
    empty_question="Send me a question about the U.S.–Mexico agreement, or /topics to browse.",
    source_label="Source: the article, ",
    not_covered_label="The article is silent on this. Nearest part: ",
    paragraph="paragraph",
    paragraphs="paragraphs",
    and_="and",
    unknown_topic="I don't know that topic any more. Here is what I can answer:",
    stale_button="That button is out of date. Here is what I can answer:",
    error="Sorry, something went wrong on my side. Please try again in a moment.",
    ask_usage="Write your question after the command, for example: /ask who led the delegation?",
    unknown_command="I don't know that command. Send /help to see what I can do.",
    topics_button="📚 Topics",
    lang_set="From now on I answer in English in this chat. /lang auto follows each message.",
    lang_auto="I answer in the language of each message again.",
    lang_usage="Language: {current}. Send /lang en, /lang es or /lang auto.",
    greeting="Hi! Ask me anything about the U.S.–Mexico agreement against organized crime.",
    thanks="You're welcome! Anything else about the agreement?",
    capabilities="I answer questions about one news article: the U.S.–Mexico agreement against "
    "organized crime. Ask in your own words, in English or Spanish, or pick a topic:",
    goodbye="Goodbye! Come back any time with questions about the agreement.",
    ack="Glad to help. Anything else about the agreement?",
    vote_thanks="Thanks for the feedback!",
    vote_stale="That answer is out of date, so the vote was not counted.",
    share="🔗 Share this answer",
    inline_no_match_title="Not covered by the article",
    inline_no_match="The article about the U.S.–Mexico agreement does not seem to cover that.",
    flood="You are sending more than {limit} messages or taps a minute; I'll answer again shortly.",
    only_text="I can only read text. Ask me a question about the U.S.–Mexico agreement in "
    "words, or pick a topic:",
    stats_no_store="No feedback store is configured.",
    stats_unreadable="The feedback store cannot be read: {error}",
    stats_knowledge="Knowledge: {entries} entries.",
    stats_feedback="Feedback: {unanswered} unanswered, {picks} did-you-mean picks, {up} 👍, "
    "{down} 👎, from {chats} chats.",
    stats_top_unanswered="Top unanswered:",
    stats_most_downvoted="Most 👎:",
    stats_none="(none)",
    reload_done="Reloaded: {entries} entries.",
    privacy="What I keep about this chat, always under a keyed hash (never your chat id or "
    'name): the questions I could not answer, your 👍/👎 and "did you mean" choices (so the '
    "answers can be improved), the language you pinned with /lang, and the topic of my last "
    'answer for {minutes} minutes (so that "and him?" works). Messages I received are kept '
    "for a day so that none is answered twice. Send /forget to delete everything kept for "
    "this chat.",
    forgotten="Done: everything I kept for this chat is deleted (questions, votes, language "
    "and topic).",
    reload_refused="Reload refused; the running knowledge base stays. Problems:",
)

ES: Final = Messages(
    welcome="¡Hola! Respondo preguntas sobre una noticia: el acuerdo entre México y Estados "
    "Unidos para actuar juntos contra el crimen organizado.",
    about="Pregúntame con tus propias palabras (en español o en inglés), o elige un tema abajo. "
    "Solo digo lo que dice el artículo, y te aviso cuando no dice algo.",
    help_intro="Escribe una pregunta, por ejemplo: ¿quién encabezó la delegación mexicana?",
    help_topics="ir directo a un tema",
    topics_intro="Esto es lo que cubre el artículo. Elige un tema:",
    did_you_mean="No estoy seguro de cuál de estos temas buscas. ¿Quisiste decir:",
    decline="Lo siento, el artículo no parece tratar eso",
    decline_opinion="No tengo una opinión que dar: solo cuento lo que dice el artículo, y el "
    "artículo no juzga ni pronostica",
    decline_year="El artículo no da ningún año, así que no puedo decirte nada de {year}",
    decline_closest="El tema más cercano que sí trata el artículo:",
    decline_topics="Trata del acuerdo entre México y Estados Unidos contra el crimen organizado: "
    "el objetivo, el fentanilo y el tráfico de armas, la delegación, los cuatro principios y "
    "los próximos pasos. Envía /topics para ver todo lo que puedo responder.",
    empty_question="Envíame una pregunta sobre el acuerdo entre México y Estados Unidos, "
    "o /topics para ver los temas.",
    source_label="Fuente: el artículo, ",
    not_covered_label="El artículo no lo dice. Parte más cercana: ",
    paragraph="párrafo",
    paragraphs="párrafos",
    and_="y",
    unknown_topic="Ya no conozco ese tema. Esto es lo que puedo responder:",
    stale_button="Ese botón ya no es válido. Esto es lo que puedo responder:",
    error="Lo siento, algo falló de mi lado. Inténtalo de nuevo en un momento.",
    ask_usage="Escribe tu pregunta después del comando, por ejemplo: "
    "/ask ¿quién encabezó la delegación?",
    unknown_command="No conozco ese comando. Envía /help para ver lo que puedo hacer.",
    topics_button="📚 Temas",
    lang_set="A partir de ahora respondo en español en este chat. /lang auto sigue cada mensaje.",
    lang_auto="Vuelvo a responder en el idioma de cada mensaje.",
    lang_usage="Idioma: {current}. Envía /lang es, /lang en o /lang auto.",
    greeting="¡Hola! Pregúntame lo que quieras sobre el acuerdo entre México y Estados Unidos "
    "contra el crimen organizado.",
    thanks="¡Con gusto! ¿Algo más sobre el acuerdo?",
    capabilities="Respondo preguntas sobre una noticia: el acuerdo entre México y Estados Unidos "
    "contra el crimen organizado. Pregunta con tus palabras, en español o en inglés, o elige "
    "un tema:",
    goodbye="¡Hasta luego! Vuelve cuando quieras con tus preguntas sobre el acuerdo.",
    ack="Qué bueno que te sirvió. ¿Algo más sobre el acuerdo?",
    vote_thanks="¡Gracias por tu opinión!",
    vote_stale="Esa respuesta ya no existe, así que el voto no se contó.",
    share="🔗 Compartir esta respuesta",
    inline_no_match_title="El artículo no trata eso",
    inline_no_match="El artículo sobre el acuerdo entre México y Estados Unidos no parece "
    "tratar eso.",
    flood="Estás enviando más de {limit} mensajes o toques por minuto; te respondo en un momento.",
    only_text="Solo puedo leer texto. Hazme una pregunta con palabras sobre el acuerdo entre "
    "México y Estados Unidos, o elige un tema:",
    stats_no_store="No hay un almacén de opiniones configurado.",
    stats_unreadable="No se puede leer el almacén de opiniones: {error}",
    stats_knowledge="Conocimiento: {entries} entradas.",
    stats_feedback="Opiniones: {unanswered} sin respuesta, {picks} elecciones de «¿quisiste "
    "decir?», {up} 👍, {down} 👎, de {chats} chats.",
    stats_top_unanswered="Más preguntadas sin respuesta:",
    stats_most_downvoted="Con más 👎:",
    stats_none="(ninguna)",
    reload_done="Recargado: {entries} entradas.",
    privacy="Lo que guardo de este chat, siempre bajo un hash con clave (nunca tu id de chat ni "
    "tu nombre): las preguntas que no pude responder, tus 👍/👎 y lo que elegiste en «¿quisiste "
    "decir?» (para mejorar las respuestas), el idioma que fijaste con /lang y el tema de mi "
    "última respuesta durante {minutes} minutos (para que «¿y él?» funcione). Los mensajes "
    "recibidos se guardan un día para no responder ninguno dos veces. Envía /forget para "
    "borrar todo lo que guardo de este chat.",
    forgotten="Listo: borré todo lo que guardaba de este chat (preguntas, votos, idioma y tema).",
    reload_refused="Recarga rechazada; sigue la base de conocimiento actual. Problemas:",
)

_BY_LANGUAGE: Final[dict[Language, Messages]] = {"en": EN, "es": ES}


def messages(language: Language) -> Messages:
    """The bot's strings in `language`."""
    return _BY_LANGUAGE[language]
