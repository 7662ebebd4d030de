"""First-person statements describing the two poles of every trait.

``POLES[name] = (presence, absence)``: statements a person at the *presence* pole (the pole a
high percentage points to; ``max_label`` for bipolar traits) and at the opposite pole would
agree with. ``traits.json`` has only names, descriptions and bipolar labels, so these are
written here, following matching.md §2 ("presence" pole column) with two project decisions:
"Stability of Self-image" presence = a *stable* self-image, and the low pole of traits marked
"low pole: an ordinary 18–30-year-old" describes an ordinary young adult.
"""

from __future__ import annotations

POLES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "Agreeableness": (
        (
            "I am kind, warm and cooperative with everyone.",
            "I avoid arguments and try to keep the peace.",
            "I put other people's needs before my own.",
            "I forgive people easily and give them the benefit of the doubt.",
        ),
        (
            "I am blunt and don't mind upsetting people.",
            "I like to argue and I stand my ground in conflicts.",
            "I look out for myself first.",
            "I hold grudges and I am critical of others.",
        ),
    ),
    "Anxious Attachment": (
        (
            "I constantly worry that my partner will leave me.",
            "I need a lot of reassurance that my partner loves me.",
            "I panic when my partner doesn't text me back quickly.",
            "I get jealous and clingy because I fear being abandoned.",
        ),
        (
            "I feel secure in my relationships and rarely worry about being left.",
            "I don't need reassurance that my partner loves me.",
            "If my partner doesn't reply for a while, I don't worry about it.",
            "I trust that my relationship is stable.",
        ),
    ),
    "Avoidant Attachment": (
        (
            "I feel smothered when a partner wants to be too close.",
            "I keep emotional distance in relationships.",
            "I prefer not to depend on a partner or have a partner depend on me.",
            "I pull away when a relationship gets serious.",
        ),
        (
            "I love being emotionally close and intimate with a partner.",
            "I am comfortable depending on my partner.",
            "I enjoy lots of affection and togetherness in a relationship.",
            "I open up to my partner and let them in.",
        ),
    ),
    "Conscientiousness": (
        (
            "I am organised, tidy and always on time.",
            "I plan ahead and finish my work before I play.",
            "I am reliable and keep my commitments.",
            "I set goals and work hard to reach them.",
        ),
        (
            "I am messy and disorganised.",
            "I procrastinate and leave things to the last minute.",
            "I am often late and forget my commitments.",
            "I do things on a whim without planning.",
        ),
    ),
    "Neuroticism": (
        (
            "I worry a lot and get anxious easily.",
            "My mood swings and I get upset easily.",
            "I feel stressed and overwhelmed often.",
            "Small problems make me nervous and insecure.",
        ),
        (
            "I am emotionally stable and rarely worried.",
            "I stay relaxed and calm under pressure.",
            "I rarely feel anxious or sad.",
            "Stress doesn't get to me.",
        ),
    ),
    "Career Focus": (
        (
            "My career is my top priority in life.",
            "I would work late and skip social plans to get ahead at work.",
            "I am ambitious and want a high-powered job.",
            "Professional success matters more to me than leisure.",
        ),
        (
            "Work is just a way to pay the bills for me.",
            "I care more about my free time and friends than my career.",
            "I am not very ambitious about my job.",
            "I would rather have a relaxed life than a successful career.",
        ),
    ),
    "Drug Friendliness": (
        (
            "I enjoy using recreational drugs.",
            "I smoke weed and have tried psychedelics.",
            "Drugs should be legal and people should use what they want.",
            "I like getting high at parties.",
        ),
        (
            "I never use drugs and I dislike all drug use.",
            "Drugs are dangerous and should stay illegal.",
            "I would not date someone who uses drugs.",
            "I stay completely sober.",
        ),
    ),
    "Emotional Openness in Relationships": (
        (
            "I openly share my feelings with my partner.",
            "I love deep emotional conversations about how we feel.",
            "I say 'I love you' and express my emotions freely.",
            "I talk about my fears and vulnerabilities with people I love.",
        ),
        (
            "I keep my feelings to myself.",
            "I find it hard to talk about my emotions.",
            "I avoid emotional conversations in relationships.",
            "I rarely show my feelings, even to my partner.",
        ),
    ),
    "Empathy": (
        (
            "I feel other people's pain as if it were my own.",
            "I easily understand how others are feeling.",
            "I am moved when I see someone suffering.",
            "I care deeply about other people's feelings.",
        ),
        (
            "I don't really care how other people feel.",
            "Other people's problems are not my concern.",
            "I stay detached and logical when others are upset.",
            "I find it hard to relate to other people's emotions.",
        ),
    ),
    "Emphasis on Boundaries": (
        (
            "I set clear personal boundaries and expect people to respect them.",
            "I need my own personal space and privacy, even in a relationship.",
            "I have no problem saying no to people.",
            "People should ask before touching my things.",
        ),
        (
            "I don't mind people going through my phone or my things.",
            "Couples should share everything and have no secrets or private space.",
            "I find it hard to say no to people.",
            "I don't need personal space from the people I love.",
        ),
    ),
    "Environmentalism/Anthropocentrism": (
        (
            "Human needs and economic growth matter more than protecting nature.",
            "Environmental regulations hurt business and jobs.",
            "Nature exists for people to use.",
            "Climate change worries are exaggerated.",
        ),
        (
            "We must protect the environment and animals, even at an economic cost.",
            "I recycle and try to reduce my carbon footprint.",
            "Climate change is the biggest threat we face.",
            "Nature and wildlife deserve protection from human development.",
        ),
    ),
    "Equanimity": (
        (
            "I stay calm and composed in stressful situations.",
            "I keep my cool when things go wrong.",
            "Nothing really rattles me.",
            "I think clearly under pressure.",
        ),
        (
            "I panic when things go wrong.",
            "I lose my temper easily.",
            "Stressful situations overwhelm me.",
            "I get flustered and can't think under pressure.",
        ),
    ),
    "Equity/Meritocracy": (
        (
            "People should be rewarded according to their talent and hard work.",
            "Hiring should be based purely on merit, not on diversity quotas.",
            "Success is earned and inequality of outcomes is fair.",
            "The best person should get the job regardless of background.",
        ),
        (
            "Society should make outcomes more equal for everyone.",
            "Disadvantaged groups deserve extra help and affirmative action.",
            "Wealth should be redistributed to reduce inequality.",
            "Fairness means equal opportunities and support for those who start behind.",
        ),
    ),
    "Family Focus": (
        (
            "My family is the most important thing in my life.",
            "I want to get married and have children.",
            "I spend a lot of time with my parents and relatives.",
            "I would put my family before my career or friends.",
        ),
        (
            "I don't want children.",
            "I am not close to my family.",
            "My own freedom matters more to me than family obligations.",
            "I rarely see my relatives.",
        ),
    ),
    "Fitness Focus": (
        (
            "I work out at the gym regularly.",
            "I eat healthy and stay physically fit.",
            "I love running, sports and exercise.",
            "Staying in shape is important to me.",
        ),
        (
            "I never exercise.",
            "I eat junk food and don't care about fitness.",
            "I prefer lying on the couch to working out.",
            "Staying in shape is not a priority for me.",
        ),
    ),
    "Honesty": (
        (
            "I always tell the truth, even when it hurts.",
            "I never lie or cheat.",
            "I am straightforward and transparent with people.",
            "I would confess a mistake rather than hide it.",
        ),
        (
            "I lie when it suits me.",
            "A little deception is fine to get what I want.",
            "I have cheated and kept it secret.",
            "I tell people what they want to hear rather than the truth.",
        ),
    ),
    "Humility": (
        (
            "I am modest and don't brag about my achievements.",
            "I give others credit for my success.",
            "I admit when I am wrong.",
            "I don't think I am better than anyone else.",
        ),
        (
            "I like to show off and brag.",
            "I think I am better than most people.",
            "I want everyone to know how successful I am.",
            "I rarely admit I am wrong.",
        ),
    ),
    "Independence": (
        (
            "I make my own decisions without needing anyone's approval.",
            "I like handling things on my own.",
            "I am self-reliant and don't depend on others.",
            "I am happy doing things alone.",
        ),
        (
            "I rely on others to help me make decisions.",
            "I need my friends or family to look after me.",
            "I don't like doing things on my own.",
            "I ask for advice before every decision.",
        ),
    ),
    "Individualism/Collectivism": (
        (
            "The good of the community matters more than individual rights.",
            "People should sacrifice personal freedom for the common good.",
            "Society should take care of everyone together.",
            "Social harmony matters more than individual choice.",
        ),
        (
            "Individual rights and freedoms come first.",
            "People should be free to live however they want without society interfering.",
            "Everyone is responsible for themselves.",
            "Personal freedom matters more than social cohesion.",
        ),
    ),
    "Introversion/Extraversion": (
        (
            "I love going to parties and meeting new people.",
            "Socialising with big groups gives me energy.",
            "I enjoy being the centre of attention.",
            "I am outgoing and talkative with strangers.",
        ),
        (
            "I prefer staying home alone to going to parties.",
            "I need quiet time alone to recharge after socialising.",
            "I am shy and quiet around strangers.",
            "Big crowds and loud social events drain me.",
        ),
    ),
    "Isolationism/Internationalism": (
        (
            "Countries should cooperate closely through international organisations.",
            "Globalisation and free trade benefit everyone.",
            "We should welcome immigrants and engage with the world.",
            "Global problems need global cooperation.",
        ),
        (
            "My country should look after itself and stay out of world affairs.",
            "We should limit immigration and foreign trade.",
            "National self-reliance matters more than international cooperation.",
            "Globalisation has done more harm than good.",
        ),
    ),
    "Judging/Perceiving": (
        (
            "I like to be spontaneous and go with the flow.",
            "I keep my options open rather than making plans.",
            "I improvise and adapt as things happen.",
            "Schedules and rigid plans bore me.",
        ),
        (
            "I plan everything in advance.",
            "I like schedules, lists and a clear routine.",
            "I make decisions quickly and stick to them.",
            "I hate last-minute changes of plan.",
        ),
    ),
    "Libertarianism/Authoritarianism": (
        (
            "The government should have strong authority to keep order.",
            "Strict laws and harsh punishments are necessary.",
            "The state should control more of society and the economy.",
            "People must obey authority.",
        ),
        (
            "Government should stay out of people's lives.",
            "People should be free to do whatever they want if it harms no one.",
            "Taxes and regulations should be minimal.",
            "I distrust state power and authority.",
        ),
    ),
    "Love Focus": (
        (
            "I am looking for true love and a serious relationship.",
            "Finding the love of my life is my main goal.",
            "I put a lot of effort into romance and my relationship.",
            "I want a deep, committed romantic partnership.",
        ),
        (
            "I just want casual sex, not a relationship.",
            "I am only looking for hookups and short-term fun.",
            "Romance isn't important to me.",
            "I don't want anything serious.",
        ),
    ),
    "Loyalty": (
        (
            "I always keep my promises.",
            "I stand by my friends and partner no matter what.",
            "I would never betray someone who trusts me.",
            "I stay faithful and committed.",
        ),
        (
            "I break promises when something better comes along.",
            "I drop friends when they are no longer useful.",
            "I would leave a partner for someone more attractive.",
            "Commitment doesn't mean much to me.",
        ),
    ),
    "Maturity": (
        (
            "I take responsibility for my actions.",
            "I handle conflict calmly like a grown adult.",
            "I am financially responsible and settled.",
            "I think about the long-term consequences of what I do.",
        ),
        (
            "I act on impulse like a teenager.",
            "I party, act silly and avoid responsibility.",
            "I blame others for my mistakes.",
            "I still rely on my parents for everything.",
        ),
    ),
    "Non-interventionism/Interventionism": (
        (
            "My country should use its military to intervene abroad.",
            "We should go to war to defend freedom in other countries.",
            "Strong military action is needed against foreign threats.",
            "We should send troops and weapons to help allies.",
        ),
        (
            "My country should stay out of foreign wars.",
            "Diplomacy and trade are better than military intervention.",
            "We should not interfere in other countries' affairs.",
            "Military spending should be cut.",
        ),
    ),
    "Openness to Experience": (
        (
            "I love trying new things and exploring new ideas.",
            "I am curious, creative and imaginative.",
            "I enjoy art, philosophy and unusual experiences.",
            "I like travelling to unfamiliar places and trying exotic food.",
        ),
        (
            "I prefer routine and familiar things.",
            "I don't like change or new experiences.",
            "I stick to what I know.",
            "Abstract ideas and art bore me.",
        ),
    ),
    "Patience": (
        (
            "I can wait calmly for a long time.",
            "I stay patient with slow people.",
            "I don't mind waiting in line.",
            "I am tolerant when things take time.",
        ),
        (
            "I hate waiting and get impatient quickly.",
            "I get annoyed when people are slow.",
            "I want everything right now.",
            "I lose my patience easily.",
        ),
    ),
    "Persistence": (
        (
            "I never give up until I reach my goal.",
            "I keep going even when things get hard.",
            "I finish everything I start.",
            "I stick to my beliefs and plans despite setbacks.",
        ),
        (
            "I give up easily when things get hard.",
            "I often abandon projects halfway.",
            "I quickly change course when something isn't working.",
            "I lose motivation fast.",
        ),
    ),
    "Playfulness": (
        (
            "I love jokes, games and being silly.",
            "I am playful and always looking for fun.",
            "I laugh a lot and don't take life too seriously.",
            "I enjoy pranks and goofing around.",
        ),
        (
            "I am serious and focused.",
            "I don't like silly games or jokes.",
            "I prefer quiet reflection to fun and games.",
            "I take life very seriously.",
        ),
    ),
    "Preference for Monogamy": (
        (
            "I only want one partner at a time.",
            "Relationships should be exclusive and faithful.",
            "Open relationships and polyamory are not for me.",
            "Cheating is unforgivable.",
        ),
        (
            "I am open to polyamory and open relationships.",
            "I want to date several people at the same time.",
            "Monogamy is unnatural.",
            "I don't mind if my partner sees other people.",
        ),
    ),
    "Rationality": (
        (
            "I make decisions by logic and evidence.",
            "I analyse facts objectively before I decide.",
            "I trust science over intuition.",
            "I don't believe in astrology or superstition.",
        ),
        (
            "I go with my gut feelings and intuition.",
            "I make decisions based on emotions.",
            "I believe in astrology, tarot and signs.",
            "Feelings matter more to me than facts.",
        ),
    ),
    "Religiosity": (
        (
            "I believe in God and pray regularly.",
            "Religion is central to my life.",
            "I go to church, mosque or temple.",
            "My spiritual faith guides my decisions.",
        ),
        (
            "I am an atheist.",
            "I am not religious and I don't believe in God.",
            "Religion plays no part in my life.",
            "I don't believe in anything spiritual or supernatural.",
        ),
    ),
    "Security/Freedom": (
        (
            "Civil liberties matter more than public safety.",
            "Government surveillance of citizens is wrong.",
            "People should have the freedom to own guns and speak freely.",
            "I would accept more risk in exchange for more freedom.",
        ),
        (
            "Public safety matters more than individual freedoms.",
            "More police and surveillance keep us safe.",
            "National security justifies limiting civil liberties.",
            "Strict security measures are worth the loss of privacy.",
        ),
    ),
    "Self-acceptance": (
        (
            "I accept myself as I am, flaws and all.",
            "I am comfortable in my own skin.",
            "I am at peace with my strengths and weaknesses.",
            "I don't need to change who I am.",
        ),
        (
            "I wish I were a completely different person.",
            "I am ashamed of who I am.",
            "I hate my body and my personality.",
            "I can't accept my flaws.",
        ),
    ),
    "Self-esteem": (
        (
            "I feel good about myself and my worth.",
            "I am confident in who I am.",
            "I believe I deserve love and respect.",
            "I feel attractive and capable.",
        ),
        (
            "I feel worthless.",
            "I doubt myself all the time.",
            "I don't think I am good enough.",
            "I feel insecure about how I look.",
        ),
    ),
    "Sensing/Intuition": (
        (
            "I love abstract ideas, theories and possibilities.",
            "I daydream and think about the big picture and the future.",
            "I look for hidden patterns and meanings.",
            "I enjoy imagining how things could be.",
        ),
        (
            "I focus on concrete facts and practical details.",
            "I trust what I can see and touch.",
            "I prefer practical, hands-on tasks to theory.",
            "I live in the present and deal with what is real.",
        ),
    ),
    "Sex Focus": (
        (
            "Sex is very important to me.",
            "I think about sex all the time.",
            "I enjoy casual sex and hookups.",
            "Physical attraction and sex matter more to me than romance.",
        ),
        (
            "Sex is not important to me.",
            "Love matters far more to me than sex.",
            "I rarely think about sex.",
            "I could be happy in a relationship without sex.",
        ),
    ),
    "Stability of Self-image": (
        (
            "I have a strong, steady sense of who I am.",
            "My identity and values stay the same whatever happens.",
            "I know exactly who I am.",
            "Other people's opinions don't change how I see myself.",
        ),
        (
            "My sense of who I am keeps changing.",
            "I often feel unsure who I really am.",
            "I change my style, opinions and identity depending on who I'm with.",
            "My self-image depends on my mood.",
        ),
    ),
    "Thinking/Feeling": (
        (
            "I make decisions based on feelings and values.",
            "I consider how others will feel before I decide.",
            "Harmony and compassion matter more than logic.",
            "I follow my heart.",
        ),
        (
            "I make decisions based on logic and objective analysis.",
            "I value truth over tact.",
            "I decide with my head, not my heart.",
            "Feelings should not get in the way of the right decision.",
        ),
    ),
    "Thriftiness": (
        (
            "I save money and avoid unnecessary spending.",
            "I look for bargains and use coupons.",
            "I buy second-hand and budget carefully.",
            "I hate wasting money.",
        ),
        (
            "I spend money freely on things I enjoy.",
            "I love shopping and expensive things.",
            "I splurge on luxuries and experiences.",
            "I don't keep a budget.",
        ),
    ),
    "Thrill-seeking": (
        (
            "I love extreme sports and taking risks.",
            "I would go skydiving or bungee jumping.",
            "I crave excitement and adrenaline.",
            "I like doing dangerous things.",
        ),
        (
            "I am cautious and avoid risks.",
            "I prefer comfort and safety to adventure.",
            "Danger scares me.",
            "I like a calm, predictable routine.",
        ),
    ),
    "Traditionalism about Love": (
        (
            "The man should ask the woman out and pay on the first date.",
            "Couples should marry before living together.",
            "I believe in traditional gender roles in relationships.",
            "Old-fashioned courtship is the right way to date.",
        ),
        (
            "Anyone can ask anyone out and split the bill.",
            "Modern, unconventional relationships are great.",
            "Traditional gender roles in dating are outdated.",
            "Marriage is unnecessary.",
        ),
    ),
    "Trust": (
        (
            "I trust people easily.",
            "I believe most people are honest and well-meaning.",
            "I give strangers the benefit of the doubt.",
            "I never check my partner's phone.",
        ),
        (
            "I am suspicious of people's motives.",
            "People have to earn my trust.",
            "I assume others will take advantage of me.",
            "I check up on my partner to make sure they're not lying.",
        ),
    ),
    "Wholesomeness": (
        (
            "I am innocent, kind and pure-hearted.",
            "I enjoy simple pleasures like baking and walks in nature.",
            "I avoid crude jokes and vulgar behaviour.",
            "I am sweet and genuine with everyone.",
        ),
        (
            "I love dirty jokes and crude humour.",
            "I am edgy and cynical.",
            "I enjoy shocking people.",
            "I like vulgar, debauched fun.",
        ),
    ),
}
