// The WHO cardiovascular disease risk chart, 2019 revision, laboratory-based, for the region
// "Central Latin America" (Mexico and its neighbours) as versioned data (docs/prevention.md,
// "Cardiovascular risk"): the 10-year risk (%) of a fatal or non-fatal myocardial infarction or
// stroke, by sex, diabetes, current smoking, age band (40–74), systolic pressure band and total
// cholesterol band. Source: WHO CVD Risk Chart Working Group, Lancet Glob Health
// 2019;7(10):e1332–e1345, doi:10.1016/S2214-109X(19)30318-3; the cell values as tabulated for the
// 21 regions in the whoishRisk R package (inst/extdata/WHO_2019_Scores.csv, commit b59c700).

extension CardiovascularChart {
    /// `who-cvd-2019-central-latin-america.json`
    static let centralLatinAmericaJSON = #"""
{
 "id": "who-cvd-2019-lab-central-latin-america",
 "name": "WHO CVD risk chart (laboratory-based)",
 "version": "2019.1",
 "region": "Central Latin America",
 "source": "WHO CVD Risk Chart Working Group. Lancet Glob Health 2019;7(10):e1332-e1345. doi:10.1016/S2214-109X(19)30318-3",
 "ageBands": [40, 45, 50, 55, 60, 65, 70, 75],
 "systolicBands": [0, 120, 140, 160, 180],
 "cholesterolBands": [0, 4, 5, 6, 7],
 "tables": [
  {"sex": "female", "diabetes": false, "smoker": false, "age": 40, "risk": [[1, 1, 1, 1, 1], [1, 1, 1, 2, 2], [2, 2, 2, 2, 2], [2, 2, 3, 3, 3], [3, 3, 3, 4, 4]]},
  {"sex": "female", "diabetes": false, "smoker": false, "age": 45, "risk": [[1, 1, 2, 2, 2], [2, 2, 2, 2, 2], [2, 2, 3, 3, 3], [3, 3, 3, 4, 4], [4, 4, 4, 5, 5]]},
  {"sex": "female", "diabetes": false, "smoker": false, "age": 50, "risk": [[2, 2, 2, 2, 3], [2, 2, 3, 3, 3], [3, 3, 3, 4, 4], [4, 4, 4, 5, 5], [5, 5, 6, 6, 7]]},
  {"sex": "female", "diabetes": false, "smoker": false, "age": 55, "risk": [[3, 3, 3, 3, 4], [3, 3, 4, 4, 4], [4, 4, 5, 5, 6], [5, 5, 6, 6, 7], [6, 7, 7, 8, 9]]},
  {"sex": "female", "diabetes": false, "smoker": false, "age": 60, "risk": [[4, 4, 4, 4, 5], [4, 5, 5, 6, 6], [5, 6, 6, 7, 7], [7, 7, 8, 8, 9], [8, 9, 10, 10, 11]]},
  {"sex": "female", "diabetes": false, "smoker": false, "age": 65, "risk": [[5, 5, 6, 6, 7], [6, 7, 7, 7, 8], [7, 8, 8, 9, 10], [9, 10, 10, 11, 12], [11, 12, 12, 13, 14]]},
  {"sex": "female", "diabetes": false, "smoker": false, "age": 70, "risk": [[7, 8, 8, 8, 9], [9, 9, 10, 10, 11], [10, 11, 11, 12, 13], [12, 13, 13, 14, 15], [14, 15, 16, 17, 18]]},
  {"sex": "female", "diabetes": false, "smoker": true, "age": 40, "risk": [[2, 2, 3, 3, 3], [3, 3, 3, 4, 5], [4, 4, 5, 5, 6], [5, 5, 6, 7, 8], [6, 7, 8, 9, 10]]},
  {"sex": "female", "diabetes": false, "smoker": true, "age": 45, "risk": [[3, 3, 3, 4, 4], [3, 4, 4, 5, 6], [5, 5, 6, 6, 7], [6, 7, 7, 8, 9], [8, 8, 9, 11, 12]]},
  {"sex": "female", "diabetes": false, "smoker": true, "age": 50, "risk": [[4, 4, 4, 5, 5], [4, 5, 5, 6, 7], [6, 6, 7, 8, 9], [7, 8, 9, 10, 11], [9, 10, 11, 12, 14]]},
  {"sex": "female", "diabetes": false, "smoker": true, "age": 55, "risk": [[5, 5, 6, 6, 7], [6, 6, 7, 8, 8], [7, 8, 9, 10, 10], [9, 10, 11, 12, 13], [11, 12, 13, 15, 16]]},
  {"sex": "female", "diabetes": false, "smoker": true, "age": 60, "risk": [[6, 7, 7, 8, 8], [7, 8, 9, 9, 10], [9, 10, 11, 12, 13], [11, 12, 13, 14, 15], [14, 15, 16, 17, 19]]},
  {"sex": "female", "diabetes": false, "smoker": true, "age": 65, "risk": [[8, 8, 9, 10, 10], [10, 10, 11, 12, 13], [12, 12, 13, 14, 15], [14, 15, 16, 17, 18], [17, 18, 19, 20, 22]]},
  {"sex": "female", "diabetes": false, "smoker": true, "age": 70, "risk": [[10, 11, 11, 12, 13], [12, 13, 14, 14, 15], [14, 15, 16, 17, 18], [17, 18, 19, 20, 21], [20, 21, 22, 24, 25]]},
  {"sex": "female", "diabetes": true, "smoker": false, "age": 40, "risk": [[2, 2, 3, 3, 3], [3, 3, 3, 4, 4], [4, 4, 4, 5, 6], [5, 5, 6, 7, 8], [6, 7, 8, 9, 10]]},
  {"sex": "female", "diabetes": true, "smoker": false, "age": 45, "risk": [[3, 3, 3, 4, 4], [3, 4, 4, 5, 5], [5, 5, 6, 6, 7], [6, 7, 7, 8, 9], [8, 8, 9, 10, 12]]},
  {"sex": "female", "diabetes": true, "smoker": false, "age": 50, "risk": [[4, 4, 4, 5, 5], [5, 5, 6, 6, 7], [6, 6, 7, 8, 9], [7, 8, 9, 10, 11], [9, 10, 11, 13, 14]]},
  {"sex": "female", "diabetes": true, "smoker": false, "age": 55, "risk": [[5, 5, 6, 6, 7], [6, 6, 7, 8, 9], [7, 8, 9, 10, 11], [9, 10, 11, 12, 13], [12, 13, 14, 15, 16]]},
  {"sex": "female", "diabetes": true, "smoker": false, "age": 60, "risk": [[6, 7, 7, 8, 9], [8, 8, 9, 10, 11], [10, 10, 11, 12, 13], [12, 13, 14, 15, 16], [14, 15, 17, 18, 19]]},
  {"sex": "female", "diabetes": true, "smoker": false, "age": 65, "risk": [[8, 9, 10, 10, 11], [10, 11, 12, 12, 13], [12, 13, 14, 15, 16], [15, 16, 17, 18, 19], [18, 19, 20, 21, 23]]},
  {"sex": "female", "diabetes": true, "smoker": false, "age": 70, "risk": [[11, 12, 12, 13, 14], [13, 14, 15, 16, 16], [16, 16, 17, 18, 20], [18, 19, 21, 22, 23], [22, 23, 24, 26, 27]]},
  {"sex": "female", "diabetes": true, "smoker": true, "age": 40, "risk": [[5, 5, 6, 7, 9], [6, 7, 8, 10, 11], [8, 9, 11, 12, 14], [11, 12, 14, 16, 19], [14, 16, 18, 21, 24]]},
  {"sex": "female", "diabetes": true, "smoker": true, "age": 45, "risk": [[6, 7, 8, 9, 10], [8, 9, 10, 11, 13], [10, 11, 12, 14, 16], [13, 14, 16, 18, 20], [16, 18, 20, 23, 26]]},
  {"sex": "female", "diabetes": true, "smoker": true, "age": 50, "risk": [[7, 8, 9, 10, 11], [9, 10, 11, 13, 14], [12, 13, 14, 16, 18], [15, 16, 18, 20, 22], [18, 20, 22, 25, 28]]},
  {"sex": "female", "diabetes": true, "smoker": true, "age": 55, "risk": [[9, 10, 11, 12, 13], [11, 12, 13, 15, 16], [14, 15, 16, 18, 20], [17, 18, 20, 22, 25], [21, 23, 25, 27, 30]]},
  {"sex": "female", "diabetes": true, "smoker": true, "age": 60, "risk": [[11, 12, 13, 14, 15], [13, 14, 15, 17, 18], [16, 17, 19, 20, 22], [19, 21, 23, 25, 27], [24, 25, 27, 30, 32]]},
  {"sex": "female", "diabetes": true, "smoker": true, "age": 65, "risk": [[13, 14, 15, 16, 17], [16, 17, 18, 19, 21], [19, 20, 21, 23, 25], [22, 24, 26, 27, 29], [27, 28, 30, 32, 35]]},
  {"sex": "female", "diabetes": true, "smoker": true, "age": 70, "risk": [[16, 17, 18, 19, 20], [19, 20, 21, 22, 23], [22, 23, 24, 26, 28], [26, 27, 29, 30, 32], [30, 32, 33, 35, 37]]},
  {"sex": "male", "diabetes": false, "smoker": false, "age": 40, "risk": [[1, 1, 1, 2, 2], [1, 2, 2, 2, 3], [2, 2, 3, 3, 4], [3, 3, 4, 4, 5], [4, 4, 5, 6, 7]]},
  {"sex": "male", "diabetes": false, "smoker": false, "age": 45, "risk": [[1, 2, 2, 2, 3], [2, 2, 3, 3, 4], [3, 3, 4, 4, 5], [4, 4, 5, 6, 7], [5, 6, 7, 8, 9]]},
  {"sex": "male", "diabetes": false, "smoker": false, "age": 50, "risk": [[2, 2, 3, 3, 4], [3, 3, 4, 4, 5], [4, 4, 5, 6, 7], [5, 6, 6, 7, 9], [7, 7, 8, 10, 11]]},
  {"sex": "male", "diabetes": false, "smoker": false, "age": 55, "risk": [[3, 3, 4, 4, 5], [4, 4, 5, 6, 7], [5, 6, 6, 7, 9], [6, 7, 8, 10, 11], [8, 9, 11, 12, 14]]},
  {"sex": "male", "diabetes": false, "smoker": false, "age": 60, "risk": [[4, 5, 5, 6, 7], [5, 6, 7, 8, 9], [7, 8, 9, 10, 11], [9, 10, 11, 12, 14], [11, 12, 14, 16, 18]]},
  {"sex": "male", "diabetes": false, "smoker": false, "age": 65, "risk": [[6, 7, 7, 8, 9], [7, 8, 9, 10, 12], [9, 10, 11, 13, 15], [11, 13, 14, 16, 18], [14, 16, 18, 20, 22]]},
  {"sex": "male", "diabetes": false, "smoker": false, "age": 70, "risk": [[8, 9, 10, 11, 13], [10, 11, 12, 14, 16], [12, 14, 15, 17, 19], [15, 17, 18, 21, 23], [18, 20, 22, 25, 27]]},
  {"sex": "male", "diabetes": false, "smoker": true, "age": 40, "risk": [[2, 2, 3, 3, 4], [3, 3, 4, 5, 6], [4, 4, 5, 6, 8], [5, 6, 7, 9, 10], [7, 8, 10, 12, 14]]},
  {"sex": "male", "diabetes": false, "smoker": true, "age": 45, "risk": [[3, 3, 4, 4, 5], [4, 4, 5, 6, 7], [5, 6, 7, 8, 9], [6, 7, 9, 10, 12], [9, 10, 12, 14, 17]]},
  {"sex": "male", "diabetes": false, "smoker": true, "age": 50, "risk": [[3, 4, 5, 6, 7], [5, 5, 6, 7, 9], [6, 7, 8, 10, 11], [8, 9, 11, 13, 15], [11, 12, 14, 16, 19]]},
  {"sex": "male", "diabetes": false, "smoker": true, "age": 55, "risk": [[5, 5, 6, 7, 8], [6, 7, 8, 9, 11], [8, 9, 10, 12, 14], [10, 11, 13, 15, 18], [13, 15, 17, 19, 22]]},
  {"sex": "male", "diabetes": false, "smoker": true, "age": 60, "risk": [[6, 7, 8, 9, 11], [8, 9, 10, 12, 13], [10, 11, 13, 15, 17], [13, 14, 16, 18, 21], [16, 18, 20, 23, 26]]},
  {"sex": "male", "diabetes": false, "smoker": true, "age": 65, "risk": [[8, 9, 10, 12, 13], [10, 11, 13, 14, 16], [13, 14, 16, 18, 20], [16, 17, 19, 22, 25], [19, 21, 24, 27, 30]]},
  {"sex": "male", "diabetes": false, "smoker": true, "age": 70, "risk": [[11, 12, 13, 15, 17], [13, 14, 16, 18, 20], [16, 18, 20, 22, 24], [19, 21, 24, 26, 29], [23, 26, 28, 31, 35]]},
  {"sex": "male", "diabetes": true, "smoker": false, "age": 40, "risk": [[2, 2, 3, 4, 4], [3, 3, 4, 5, 6], [4, 5, 6, 7, 8], [6, 7, 8, 9, 11], [8, 9, 10, 12, 15]]},
  {"sex": "male", "diabetes": true, "smoker": false, "age": 45, "risk": [[3, 3, 4, 5, 6], [4, 4, 5, 6, 7], [5, 6, 7, 8, 10], [7, 8, 9, 11, 13], [10, 11, 12, 15, 17]]},
  {"sex": "male", "diabetes": true, "smoker": false, "age": 50, "risk": [[4, 4, 5, 6, 7], [5, 6, 7, 8, 9], [7, 8, 9, 10, 12], [9, 10, 11, 13, 16], [12, 13, 15, 17, 20]]},
  {"sex": "male", "diabetes": true, "smoker": false, "age": 55, "risk": [[5, 6, 7, 8, 9], [6, 7, 8, 10, 12], [8, 9, 11, 13, 15], [11, 12, 14, 16, 19], [14, 16, 18, 21, 24]]},
  {"sex": "male", "diabetes": true, "smoker": false, "age": 60, "risk": [[7, 7, 9, 10, 11], [8, 9, 11, 12, 14], [11, 12, 14, 16, 18], [13, 15, 17, 20, 22], [17, 19, 22, 24, 28]]},
  {"sex": "male", "diabetes": true, "smoker": false, "age": 65, "risk": [[9, 10, 11, 13, 14], [11, 12, 14, 16, 18], [13, 15, 17, 19, 22], [17, 19, 21, 24, 27], [21, 23, 26, 29, 32]]},
  {"sex": "male", "diabetes": true, "smoker": false, "age": 70, "risk": [[12, 13, 14, 16, 18], [14, 16, 18, 20, 22], [17, 19, 21, 24, 26], [21, 23, 26, 28, 32], [25, 28, 31, 34, 38]]},
  {"sex": "male", "diabetes": true, "smoker": true, "age": 40, "risk": [[4, 5, 6, 7, 9], [6, 7, 8, 10, 12], [8, 9, 11, 13, 16], [11, 12, 15, 18, 21], [15, 17, 20, 23, 28]]},
  {"sex": "male", "diabetes": true, "smoker": true, "age": 45, "risk": [[5, 6, 7, 9, 11], [7, 8, 10, 11, 14], [9, 11, 13, 15, 18], [12, 14, 17, 20, 24], [16, 19, 22, 26, 31]]},
  {"sex": "male", "diabetes": true, "smoker": true, "age": 50, "risk": [[6, 7, 9, 10, 12], [8, 10, 11, 13, 16], [11, 13, 15, 17, 21], [14, 17, 19, 23, 27], [19, 21, 25, 29, 34]]},
  {"sex": "male", "diabetes": true, "smoker": true, "age": 55, "risk": [[8, 9, 11, 12, 15], [10, 12, 14, 16, 19], [13, 15, 17, 20, 24], [17, 19, 22, 25, 30], [21, 24, 28, 32, 37]]},
  {"sex": "male", "diabetes": true, "smoker": true, "age": 60, "risk": [[10, 11, 13, 15, 17], [12, 14, 16, 19, 21], [16, 18, 20, 23, 27], [19, 22, 25, 29, 33], [24, 27, 31, 35, 40]]},
  {"sex": "male", "diabetes": true, "smoker": true, "age": 65, "risk": [[12, 14, 15, 18, 20], [15, 17, 19, 22, 25], [18, 21, 23, 26, 30], [23, 25, 29, 32, 36], [28, 31, 35, 39, 43]]},
  {"sex": "male", "diabetes": true, "smoker": true, "age": 70, "risk": [[15, 17, 19, 21, 24], [18, 20, 23, 25, 28], [22, 24, 27, 30, 34], [26, 29, 32, 36, 40], [32, 35, 38, 42, 47]]}
 ]
}
"""#
}
